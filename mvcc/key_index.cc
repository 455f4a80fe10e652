#include "mvcc/key_index.h"

namespace revkv::mvcc {

void KeyIndex::Put(Revision rev) {
  if (gens_.empty()) gens_.emplace_back();
  Generation& g = gens_.back();
  if (g.revs.empty()) g.created = rev;
  g.revs.push_back(rev);
  g.version++;
  modified_ = rev;
}

void KeyIndex::Restore(Revision created, Revision modified, int64_t version) {
  modified_ = modified;
  Generation g;
  g.created = created;
  g.version = version;
  g.revs.push_back(modified);
  gens_.push_back(std::move(g));
}

absl::Status KeyIndex::Tombstone(Revision rev) {
  if (gens_.empty() || gens_.back().revs.empty()) {
    return absl::NotFoundError("mvcc: revision not found");
  }
  Put(rev);
  gens_.emplace_back();
  return absl::OkStatus();
}

const KeyIndex::Generation* KeyIndex::FindGeneration(int64_t at_rev) const {
  const size_t last = gens_.size() - 1;
  for (size_t i = gens_.size(); i-- > 0;) {
    const Generation& g = gens_[i];
    if (g.revs.empty()) continue;
    // An ended generation whose tombstone is at or before at_rev: deleted then.
    if (i != last && g.revs.back().main <= at_rev) return nullptr;
    if (g.revs.front().main <= at_rev) return &g;
  }
  return nullptr;
}

absl::Status KeyIndex::Get(int64_t at_rev, KeyAt* out) const {
  const Generation* g = gens_.empty() ? nullptr : FindGeneration(at_rev);
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

void KeyIndex::DoCompact(int64_t at_rev, RevisionSet* keep, size_t* gen,
                         int* rev_index) const {
  size_t gi = 0;
  // The first generation that was live at at_rev or began after it.
  while (gi + 1 < gens_.size() && gens_[gi].revs.back().main <= at_rev) ++gi;
  const Generation& g = gens_[gi];
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
  if (IsEmpty() || gens_.empty()) return;
  size_t gi;
  int ri;
  DoCompact(at_rev, keep, &gi, &ri);
  Generation& g = gens_[gi];
  if (!g.revs.empty()) {
    if (ri != -1) g.revs.erase(g.revs.begin(), g.revs.begin() + ri);
    // A generation left with only its tombstone is gone entirely.
    if (g.revs.size() == 1 && gi != gens_.size() - 1) {
      keep->erase(g.revs[0]);
      ++gi;
    }
  }
  gens_.erase(gens_.begin(), gens_.begin() + ptrdiff_t(gi));
}

void KeyIndex::Keep(int64_t at_rev, RevisionSet* keep) const {
  if (IsEmpty() || gens_.empty()) return;
  size_t gi;
  int ri;
  DoCompact(at_rev, keep, &gi, &ri);
  const Generation& g = gens_[gi];
  if (!g.revs.empty() && ri == int(g.revs.size()) - 1 && gi != gens_.size() - 1) {
    keep->erase(g.revs[size_t(ri)]);
  }
}

size_t KeyIndex::HeapBytes() const {
  size_t n = 0;
  if (gens_.capacity() > 1) n += gens_.capacity() * sizeof(Generation);
  for (const Generation& g : gens_) {
    if (g.revs.capacity() > 1) n += g.revs.capacity() * sizeof(Revision);
  }
  return n;
}

}  // namespace revkv::mvcc
