// Where an example keeps its data: the path given as its first argument, or
// else `name` inside a fresh temporary directory that is removed when the
// example ends, so that every run starts empty and prints the same.
#ifndef REVKV_KVSTORE_EXAMPLES_EXAMPLE_PATH_H_
#define REVKV_KVSTORE_EXAMPLES_EXAMPLE_PATH_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

class ExamplePath {
 public:
  ExamplePath(int argc, char** argv, const std::string& name) {
    if (argc > 1) {
      path_ = argv[1];
      return;
    }
    char tmpl[] = "/tmp/revkv-example-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) temp_dir_ = tmpl;
    path_ = temp_dir_ + "/" + name;
  }
  ~ExamplePath() {
    std::error_code ec;
    if (!temp_dir_.empty()) std::filesystem::remove_all(temp_dir_, ec);
  }
  ExamplePath(const ExamplePath&) = delete;
  ExamplePath& operator=(const ExamplePath&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string temp_dir_;
};

#endif  // REVKV_KVSTORE_EXAMPLES_EXAMPLE_PATH_H_
