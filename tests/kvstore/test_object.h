// A KVObject for the datastore tests, after libnetwork's dummyObject: a
// name and a counter under "dummy/<id>", marshalled as "name|counter".
#ifndef REVKV_TESTS_KVSTORE_TEST_OBJECT_H_
#define REVKV_TESTS_KVSTORE_TEST_OBJECT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "kvstore/datastore/kv_object.h"

namespace revkv::kvstore::datastore {

class TestObject final : public KVObject {
 public:
  TestObject() = default;
  TestObject(std::string id, std::string name, int64_t counter = 0, bool skip = false)
      : id(std::move(id)), name(std::move(name)), counter(counter), skip(skip) {}

  std::vector<std::string> Key() const override { return {"dummy", id}; }
  std::vector<std::string> KeyPrefix() const override { return {"dummy"}; }
  absl::StatusOr<std::string> Value() const override {
    if (fail_value) return absl::InternalError("cannot marshal");
    return id + "|" + name + "|" + std::to_string(counter) + "|" + (skip ? "1" : "0");
  }
  absl::Status SetValue(std::string_view v) override {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : v) {
      if (c == '|') {
        parts.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    parts.push_back(cur);
    if (parts.size() != 4) return absl::InvalidArgumentError("bad TestObject value");
    id = parts[0];
    name = parts[1];
    counter = std::stoll(parts[2]);
    skip = parts[3] == "1";
    return absl::OkStatus();
  }
  uint64_t Index() const override { return index; }
  void SetIndex(uint64_t i) override {
    index = i;
    exists = true;
  }
  bool Exists() const override { return exists; }
  bool Skip() const override { return skip; }
  std::unique_ptr<KVObject> New() const override {
    auto o = std::make_unique<TestObject>();
    o->skip = skip;
    return o;
  }
  absl::Status CopyTo(KVObject& dst) const override {
    auto* d = dynamic_cast<TestObject*>(&dst);
    if (d == nullptr) return absl::InvalidArgumentError("CopyTo: not a TestObject");
    *d = *this;
    return absl::OkStatus();
  }

  std::string id;
  std::string name;
  int64_t counter = 0;
  bool skip = false;
  bool fail_value = false;
  uint64_t index = 0;
  bool exists = false;
};

inline const TestObject& AsTest(const KVObject& o) { return dynamic_cast<const TestObject&>(o); }

}  // namespace revkv::kvstore::datastore

#endif  // REVKV_TESTS_KVSTORE_TEST_OBJECT_H_
