// canonical raft's C headers for C++: they declare no extern "C" of their
// own (raft 0.15), so C++ would mangle every raft_* name. Include raft.h,
// raft/fixture.h and raft/uv.h only through this header.
//
// Thread-safety: see raft.h: a raft instance is single-threaded (its loop).
#ifndef REVKV_RAFT_C_RAFT_H_
#define REVKV_RAFT_C_RAFT_H_

#include <uv.h>  // has its own extern "C"

extern "C" {
#include <raft.h>
#include <raft/fixture.h>
#include <raft/uv.h>
}

#endif  // REVKV_RAFT_C_RAFT_H_
