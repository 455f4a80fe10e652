// datastore_example: libnetwork's object datastore (kvstore/datastore/) --
// a network object stored with optimistic locking, a stale update refused,
// listed and loaded back through the cache.
//
//   bazel run //kvstore/examples:datastore_example [-- PATH]   (default: a fresh temporary one)
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "kvstore/examples/example_path.h"
#include "kvstore/datastore/datastore.h"

namespace ds = revkv::kvstore::datastore;

// A network, as libnetwork's network type implements KVObject.
class Network final : public ds::KVObject {
 public:
  Network() = default;
  Network(std::string id, std::string name) : id_(std::move(id)), name_(std::move(name)) {}

  std::vector<std::string> Key() const override { return {ds::kNetworkKeyPrefix, id_}; }
  std::vector<std::string> KeyPrefix() const override { return {ds::kNetworkKeyPrefix}; }
  absl::StatusOr<std::string> Value() const override { return id_ + "\n" + name_; }
  absl::Status SetValue(std::string_view v) override {
    const size_t nl = v.find('\n');
    if (nl == std::string_view::npos) return absl::InvalidArgumentError("bad network");
    id_ = std::string(v.substr(0, nl));
    name_ = std::string(v.substr(nl + 1));
    return absl::OkStatus();
  }
  uint64_t Index() const override { return index_; }
  void SetIndex(uint64_t i) override {
    index_ = i;
    exists_ = true;
  }
  bool Exists() const override { return exists_; }
  bool Skip() const override { return false; }
  std::unique_ptr<ds::KVObject> New() const override { return std::make_unique<Network>(); }
  absl::Status CopyTo(ds::KVObject& dst) const override {
    auto* n = dynamic_cast<Network*>(&dst);
    if (n == nullptr) return absl::InvalidArgumentError("not a Network");
    *n = *this;
    return absl::OkStatus();
  }

  const std::string& name() const { return name_; }
  void set_name(std::string n) { name_ = std::move(n); }

 private:
  std::string id_, name_;
  uint64_t index_ = 0;
  bool exists_ = false;
};

int main(int argc, char** argv) {
  const ExamplePath where(argc, argv, "datastore");
  const std::string dir = where.path();
  auto store = ds::Store::New(dir, ds::kDefaultBucket);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  ds::Store& s = **store;

  Network net("n1", "bridge");
  absl::Status st = s.PutObjectAtomic(net);
  if (revkv::kvstore::IsKeyModified(st)) {
    // Stored by an earlier run: load it to get its index.
    st = s.GetObject(net);
  }
  if (!st.ok()) return 1;
  std::printf("stored %s at index %llu\n", ds::Key(net.Key()).c_str(),
              (unsigned long long)net.Index());

  Network stale = net;
  net.set_name("bridge-renamed");
  if (!s.PutObjectAtomic(net).ok()) return 1;
  stale.set_name("lost update");
  std::printf("stale update: %s\n", std::string(s.PutObjectAtomic(stale).message()).c_str());

  auto all = s.List(Network());
  for (const auto& o : *all) {
    std::printf("network: %s\n", static_cast<const Network&>(*o).name().c_str());
  }
  s.Close();
  return 0;
}
