#include "mvcc/key_index.h"

#include <algorithm>

#include "util/varint.h"

namespace revkv::mvcc {

namespace {

bool GetInt(std::string_view* in, int64_t* v) {
  uint64_t u;
  if (!util::GetVarint(in, &u) || u > uint64_t(INT64_MAX)) return false;
  *v = int64_t(u);
  return true;
}

}  // namespace

// Layout: 0 (empty) | 1, main, sub (one revision) | 2, generation count,
// then per generation: version, created main, created sub, revision count,
// (main, sub) each.
void KeyIndex::EncodeTo(std::string* out) const {
  if (a_ == 0) {
    util::PutVarint(0, out);
  } else if (is_single()) {
    util::PutVarint(1, out);
    util::PutVarint(uint64_t(a_), out);
    util::PutVarint(uint64_t(b_), out);
  } else {
    const Generations& gens = *full();
    util::PutVarint(2, out);
    util::PutVarint(gens.size(), out);
    for (const Generation& g : gens) {
      util::PutVarint(uint64_t(g.version), out);
      util::PutVarint(uint64_t(g.created.main), out);
      util::PutVarint(uint64_t(g.created.sub), out);
      util::PutVarint(g.revs.size(), out);
      for (const Revision& r : g.revs) {
        util::PutVarint(uint64_t(r.main), out);
        util::PutVarint(uint64_t(r.sub), out);
      }
    }
  }
}

bool KeyIndex::DecodeFrom(std::string_view* in) {
  Reset();
  uint64_t kind;
  if (!util::GetVarint(in, &kind)) return false;
  if (kind == 0) return true;
  if (kind == 1) {
    int64_t main, sub;
    if (!GetInt(in, &main) || !GetInt(in, &sub) || main <= 0) return false;
    a_ = main;
    b_ = sub;
    return true;
  }
  if (kind != 2) return false;
  uint64_t count;
  if (!util::GetVarint(in, &count) || count > in->size()) return false;
  auto gens = std::make_unique<Generations>();
  for (uint64_t i = 0; i < count; ++i) {
    Generation g;
    uint64_t revs;
    if (!GetInt(in, &g.version) || !GetInt(in, &g.created.main) ||
        !GetInt(in, &g.created.sub) || !util::GetVarint(in, &revs) || revs > in->size()) {
      return false;
    }
    for (uint64_t j = 0; j < revs; ++j) {
      Revision r;
      if (!GetInt(in, &r.main) || !GetInt(in, &r.sub)) return false;
      g.revs.push_back(r);
    }
    gens->push_back(std::move(g));
  }
  a_ = -1;
  b_ = reinterpret_cast<int64_t>(gens.release());
  return true;
}

bool KeyIndex::CheckWellFormed(int64_t max_main, RevisionSummary* summary) const {
  Revision last{0, -1};  // below every valid revision
  int64_t count = 0;
  auto next = [&](Revision r) {
    if (r.main < 1 || r.main > max_main || r.sub < 0 || !(last < r)) return false;
    if (count == 0) summary->min = std::min(summary->min, r);
    last = r;
    ++count;
    return true;
  };
  if (a_ == 0) return false;
  if (is_single()) {
    if (!next(Revision{a_, b_})) return false;
  } else {
    const Generations& gens = *full();
    for (size_t i = 0; i < gens.size(); ++i) {
      const Generation& g = gens[i];
      if (g.revs.empty()) {
        if (i + 1 != gens.size()) return false;
        continue;
      }
      if (g.created.main < 1 || g.revs.front() < g.created ||
          g.version < int64_t(g.revs.size())) {
        return false;
      }
      for (const Revision& r : g.revs) {
        if (!next(r)) return false;
      }
    }
    if (count == 0) return false;
  }
  summary->max = std::max(summary->max, last);
  summary->count += count;
  return true;
}

void KeyIndex::Reset() {
  if (is_full()) delete full();
  a_ = b_ = 0;
}

KeyIndex::Generations& KeyIndex::Full() {
  if (is_full()) return *full();
  auto* gens = new Generations();
  if (is_single()) {
    Generation g;
    g.version = 1;
    g.created = Revision{a_, b_};
    g.revs.push_back(g.created);
    gens->push_back(std::move(g));
  }
  a_ = -1;
  b_ = reinterpret_cast<int64_t>(gens);
  return *gens;
}

bool KeyIndex::IsEmpty() const {
  if (!is_full()) return a_ == 0;
  const Generations& g = *full();
  return g.empty() || (g.size() == 1 && g[0].revs.empty());
}

void KeyIndex::Put(Revision rev) {
  if (a_ == 0 && rev.main > 0) {
    a_ = rev.main;
    b_ = rev.sub;
    return;
  }
  Generations& gens = Full();
  if (gens.empty()) gens.emplace_back();
  Generation& g = gens.back();
  if (g.revs.empty()) g.created = rev;
  g.revs.push_back(rev);
  g.version++;
}

void KeyIndex::Restore(Revision created, Revision modified, int64_t version) {
  if (a_ == 0 && version == 1 && created == modified && modified.main > 0) {
    a_ = modified.main;
    b_ = modified.sub;
    return;
  }
  Generation g;
  g.created = created;
  g.version = version;
  g.revs.push_back(modified);
  Full().push_back(std::move(g));
}

absl::Status KeyIndex::Tombstone(Revision rev) {
  if (a_ == 0) return absl::NotFoundError("mvcc: revision not found");
  Generations& gens = Full();
  if (gens.empty() || gens.back().revs.empty()) {
    return absl::NotFoundError("mvcc: revision not found");
  }
  Put(rev);
  gens.emplace_back();
  return absl::OkStatus();
}

const KeyIndex::Generation* KeyIndex::FindGeneration(const Generations& gens, int64_t at_rev) {
  const size_t last = gens.size() - 1;
  for (size_t i = gens.size(); i-- > 0;) {
    const Generation& g = gens[i];
    if (g.revs.empty()) continue;
    // An ended generation whose tombstone is at or before at_rev: deleted then.
    if (i != last && g.revs.back().main <= at_rev) return nullptr;
    if (g.revs.front().main <= at_rev) return &g;
  }
  return nullptr;
}

absl::Status KeyIndex::Get(int64_t at_rev, KeyAt* out) const {
  if (is_single()) {
    if (a_ > at_rev) return absl::NotFoundError("mvcc: revision not found");
    out->modified = out->created = Revision{a_, b_};
    out->version = 1;
    return absl::OkStatus();
  }
  const Generation* g = is_full() && !full()->empty() ? FindGeneration(*full(), at_rev) : nullptr;
  if (g == nullptr) return absl::NotFoundError("mvcc: revision not found");
  const size_t n = g->revs.size();
  for (size_t i = n; i-- > 0;) {
    if (g->revs[i].main <= at_rev) {
      out->modified = g->revs[i];
      out->created = g->created;
      out->version = g->version - int64_t(n - 1 - i);
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError("mvcc: revision not found");
}

void KeyIndex::DoCompact(const Generations& gens, int64_t at_rev, RevisionSet* keep, size_t* gen,
                         int* rev_index) {
  size_t gi = 0;
  // The first generation that was live at at_rev or began after it.
  while (gi + 1 < gens.size() && gens[gi].revs.back().main <= at_rev) ++gi;
  const Generation& g = gens[gi];
  *rev_index = -1;
  for (size_t i = g.revs.size(); i-- > 0;) {
    if (g.revs[i].main <= at_rev) {
      keep->insert(g.revs[i]);
      *rev_index = int(i);
      break;
    }
  }
  *gen = gi;
}

void KeyIndex::Compact(int64_t at_rev, RevisionSet* keep) {
  if (IsEmpty()) return;
  if (is_single()) {
    if (a_ <= at_rev) keep->insert(Revision{a_, b_});
    return;
  }
  Generations& gens = *full();
  size_t gi;
  int ri;
  DoCompact(gens, at_rev, keep, &gi, &ri);
  Generation& g = gens[gi];
  if (!g.revs.empty()) {
    if (ri != -1) g.revs.erase(g.revs.begin(), g.revs.begin() + ri);
    // A generation left with only its tombstone is gone entirely.
    if (g.revs.size() == 1 && gi != gens.size() - 1) {
      keep->erase(g.revs[0]);
      ++gi;
    }
  }
  gens.erase(gens.begin(), gens.begin() + ptrdiff_t(gi));
  // Back to the inline form when only a plain single revision is left.
  if (gens.size() == 1 && gens[0].revs.size() == 1 && gens[0].version == 1 &&
      gens[0].created == gens[0].revs[0]) {
    Revision r = gens[0].revs[0];
    Reset();
    a_ = r.main;
    b_ = r.sub;
  }
}

void KeyIndex::Keep(int64_t at_rev, RevisionSet* keep) const {
  if (IsEmpty()) return;
  if (is_single()) {
    if (a_ <= at_rev) keep->insert(Revision{a_, b_});
    return;
  }
  const Generations& gens = *full();
  size_t gi;
  int ri;
  DoCompact(gens, at_rev, keep, &gi, &ri);
  const Generation& g = gens[gi];
  if (!g.revs.empty() && ri == int(g.revs.size()) - 1 && gi != gens.size() - 1) {
    keep->erase(g.revs[size_t(ri)]);
  }
}

size_t KeyIndex::HeapBytes() const {
  if (!is_full()) return 0;
  const Generations& gens = *full();
  size_t n = sizeof(Generations);
  if (gens.capacity() > 1) n += gens.capacity() * sizeof(Generation);
  for (const Generation& g : gens) {
    if (g.revs.capacity() > 1) n += g.revs.capacity() * sizeof(Revision);
  }
  return n;
}

}  // namespace revkv::mvcc
