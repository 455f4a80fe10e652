#include "tests/interop/bolt_writer.h"

#include <cstring>

#include "interop/etcd/bolt_freelist.h"
#include "interop/etcd/bolt_meta.h"
#include "interop/etcd/bolt_page.h"

namespace revkv::interop::etcd::testing {
namespace {

void Put16(std::string* b, size_t off, uint16_t v) { std::memcpy(b->data() + off, &v, 2); }
void Put32(std::string* b, size_t off, uint32_t v) { std::memcpy(b->data() + off, &v, 4); }
void Put64(std::string* b, size_t off, uint64_t v) { std::memcpy(b->data() + off, &v, 8); }

struct Item {
  std::string key;
  std::string value;
  uint32_t flags = 0;  // bucket flag for leaves
  uint64_t child = 0;  // for branches
};

class Writer {
 public:
  Writer(const WriterOptions& o, WriterLayout* layout) : o_(o), layout_(layout) {}

  // Returns a bucket's value: header, then an inline page if it is inlined.
  std::string Bucket(const TestBucket& b) {
    std::vector<Item> items = Items(b);
    std::string header(kBucketHeaderSize, '\0');
    Put64(&header, 8, b.sequence);
    if (o_.inline_small && b.buckets.empty() && !items.empty()) {
      std::string page = NodeBytes(items, kLeafPageFlag, 0);
      if (page.size() <= o_.page_size / 4) return header + page;
    }
    Put64(&header, 0, Tree(items));
    return header;
  }

  // The root bucket's tree (never inline).
  uint64_t RootTree(const TestBucket& b) { return Tree(Items(b)); }

  std::string& file() { return file_; }
  uint64_t next() const { return next_; }
  void Reserve(uint64_t pages) { next_ += pages; }

 private:
  std::vector<Item> Items(const TestBucket& b) {
    std::map<std::string, Item> all;
    for (const auto& [k, v] : b.values) all[k] = Item{k, v, 0, 0};
    for (const auto& [k, child] : b.buckets) all[k] = Item{k, Bucket(child), kBucketLeafFlag, 0};
    std::vector<Item> out;
    for (auto& [k, it] : all) out.push_back(std::move(it));
    return out;
  }

  // Elements then keys/values, as bbolt's node.write lays them out (no
  // page-size padding).
  std::string NodeBytes(const std::vector<Item>& items, uint16_t flags, uint64_t id) {
    std::string b(kPageHeaderSize + items.size() * kElementSize, '\0');
    Put64(&b, 0, id);
    Put16(&b, 8, flags);
    Put16(&b, 10, uint16_t(items.size()));
    for (size_t i = 0; i < items.size(); ++i) {
      const size_t e = kPageHeaderSize + i * kElementSize;
      const uint32_t pos = uint32_t(b.size() - e);
      if (flags == kLeafPageFlag) {
        Put32(&b, e, items[i].flags);
        Put32(&b, e + 4, pos);
        Put32(&b, e + 8, uint32_t(items[i].key.size()));
        Put32(&b, e + 12, uint32_t(items[i].value.size()));
        b += items[i].key + items[i].value;
      } else {
        Put32(&b, e, pos);
        Put32(&b, e + 4, uint32_t(items[i].key.size()));
        Put64(&b, e + 8, items[i].child);
        b += items[i].key;
      }
    }
    return b;
  }

  // Writes `bytes` as a span at the next free page; returns its id.
  uint64_t Emit(std::string bytes) {
    const uint64_t id = next_;
    const uint64_t pages = (bytes.size() + o_.page_size - 1) / o_.page_size;
    bytes.resize(pages * o_.page_size, '\0');
    Put64(&bytes, 0, id);
    Put32(&bytes, 12, uint32_t(pages - 1));
    if (file_.size() < (id + pages) * o_.page_size) file_.resize((id + pages) * o_.page_size, '\0');
    std::memcpy(file_.data() + id * o_.page_size, bytes.data(), bytes.size());
    next_ += pages;
    return id;
  }

  // Packs items into pages of one level, then builds levels above them.
  uint64_t Tree(std::vector<Item> items) {
    uint16_t flags = kLeafPageFlag;
    while (true) {
      std::vector<Item> parents;
      size_t i = 0;
      do {
        std::vector<Item> page;
        size_t bytes = kPageHeaderSize;
        while (i < items.size()) {
          const size_t add = kElementSize + items[i].key.size() + items[i].value.size();
          const bool full = (!page.empty() && bytes + add > o_.page_size) ||
                            (o_.max_per_page > 0 && int(page.size()) >= o_.max_per_page);
          if (full) break;
          bytes += add;
          page.push_back(items[i++]);
        }
        const std::string first = page.empty() ? "" : page.front().key;
        const uint64_t id = Emit(NodeBytes(page, flags, 0));
        if (layout_ != nullptr) {
          (flags == kLeafPageFlag ? layout_->leaf_pages : layout_->branch_pages).push_back(id);
        }
        parents.push_back(Item{first, "", 0, id});
      } while (i < items.size());
      if (parents.size() == 1) return parents[0].child;
      items = std::move(parents);
      flags = kBranchPageFlag;
    }
  }

  const WriterOptions o_;
  WriterLayout* layout_;
  std::string file_;
  uint64_t next_ = 2;
};

}  // namespace

std::string WriteBoltFile(const TestBucket& root, const WriterOptions& options,
                          WriterLayout* layout) {
  WriterLayout scratch;
  if (layout == nullptr) layout = &scratch;
  Writer w(options, layout);
  const uint64_t root_page = w.RootTree(root);
  std::vector<uint64_t> free_ids;
  uint64_t freelist = kNoFreelist;
  if (options.free_pages >= 0) {
    const uint64_t first_free = w.next();
    for (int64_t i = 0; i < options.free_pages; ++i) free_ids.push_back(first_free + uint64_t(i));
    w.Reserve(uint64_t(options.free_pages));
    freelist = w.next();
    std::string fl = EncodeFreelist(freelist, options.page_size, free_ids);
    w.Reserve(fl.size() / options.page_size);
    std::string& f = w.file();
    f.resize(w.next() * options.page_size, '\0');
    std::memcpy(f.data() + freelist * options.page_size, fl.data(), fl.size());
  }
  std::string& f = w.file();
  f.resize(w.next() * options.page_size, '\0');
  Meta m;
  m.magic = kBoltMagic;
  m.version = kBoltVersion;
  m.page_size = options.page_size;
  m.root = root_page;
  m.freelist = freelist;
  m.pgid = w.next();
  for (uint64_t slot = 0; slot < 2; ++slot) {
    m.txid = options.txid - (slot == options.txid % 2 ? 0 : 1);
    std::string page = EncodeMetaPage(m, slot);
    std::memcpy(f.data() + slot * options.page_size, page.data(), page.size());
  }
  layout->root_page = root_page;
  layout->freelist_page = freelist == kNoFreelist ? 0 : freelist;
  layout->high_water = m.pgid;
  return f;
}

}  // namespace revkv::interop::etcd::testing
