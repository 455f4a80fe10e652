#include "bench/lmdb_env.h"

namespace revkv::bench {

absl::Status LmdbError(const char* what, int rc) {
  return absl::InternalError(std::string(what) + ": " + mdb_strerror(rc));
}

absl::Status OpenLmdb(const std::string& dir, unsigned flags, unsigned max_readers,
                      MDB_env** env, MDB_dbi* dbi) {
  MDB_env* e = nullptr;
  int rc = mdb_env_create(&e);
  if (rc != 0) return LmdbError("mdb_env_create", rc);
  if ((rc = mdb_env_set_mapsize(e, kLmdbMapSize)) != 0 ||
      (rc = mdb_env_set_maxdbs(e, 4)) != 0 ||
      (rc = mdb_env_set_maxreaders(e, max_readers)) != 0 ||
      (rc = mdb_env_open(e, dir.c_str(), flags, 0644)) != 0) {
    mdb_env_close(e);
    return LmdbError("mdb_env_open", rc);
  }
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(e, nullptr, 0, &txn);
  if (rc == 0) rc = mdb_dbi_open(txn, "bench", MDB_CREATE, dbi);
  if (rc == 0) {
    rc = mdb_txn_commit(txn);
  } else if (txn != nullptr) {
    mdb_txn_abort(txn);
  }
  if (rc != 0) {
    mdb_env_close(e);
    return LmdbError("mdb_dbi_open", rc);
  }
  *env = e;
  return absl::OkStatus();
}

}  // namespace revkv::bench
