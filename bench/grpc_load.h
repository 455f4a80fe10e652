// GrpcLoad: a closed-loop gRPC load generator for `revkv bench server` --
// `clients` unary KV calls kept in flight over a set of channels for a given
// time, each slot issuing its next call as soon as its last one completes
// (etcd's `benchmark` tool's --clients over --conns).
//
// Calls are asynchronous (one completion queue per driving thread), so 256
// clients cost 256 outstanding calls, not 256 threads.
//
// Thread-compatible: Run is called from one thread (it starts its own).
#ifndef REVKV_BENCH_GRPC_LOAD_H_
#define REVKV_BENCH_GRPC_LOAD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/report.h"
#include "grpcpp/channel.h"
#include "grpcpp/completion_queue.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::bench {

// One call in flight: Start issues a fresh request on `stub` with its own
// context and arranges for the completion to arrive on `cq` tagged `this`.
class LoadCall {
 public:
  virtual ~LoadCall() = default;
  virtual void Start(grpc::CompletionQueue* cq, std::mt19937_64& rng) = 0;
  etcdserverpb::KV::Stub* stub = nullptr;  // the connection it uses
  grpc::Status status;
  uint64_t start_ns = 0;

 protected:
  std::unique_ptr<grpc::ClientContext> ctx_;
};

// A LoadCall of one KV method: `fill` writes each new request.
template <typename Req, typename Resp>
class KvCall final : public LoadCall {
 public:
  using Method = std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> (
      etcdserverpb::KV::Stub::*)(grpc::ClientContext*, const Req&, grpc::CompletionQueue*);
  KvCall(Method method, std::function<void(Req*, std::mt19937_64&)> fill)
      : method_(method), fill_(std::move(fill)) {}
  void Start(grpc::CompletionQueue* cq, std::mt19937_64& rng) override;

 private:
  Method method_;
  std::function<void(Req*, std::mt19937_64&)> fill_;
  Req req_;
  Resp resp_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> reader_;
};

struct LoadResult {
  Sample sample;  // completed calls, the time they took, their latencies
  uint64_t errors = 0;
  std::string first_error;  // the first failed call's code and message
};

// Keeps `clients` calls made by `make` in flight for `seconds` (or, with
// `total_calls` > 0, until that many have been issued) over `channels`
// (slot i uses channel i % size); seeds each driving thread from `seed`.
LoadResult RunLoad(const std::vector<std::shared_ptr<grpc::Channel>>& channels, uint64_t clients,
                   double seconds, uint64_t total_calls, uint64_t seed,
                   const std::function<std::unique_ptr<LoadCall>()>& make);

template <typename Req, typename Resp>
void KvCall<Req, Resp>::Start(grpc::CompletionQueue* cq, std::mt19937_64& rng) {
  ctx_ = std::make_unique<grpc::ClientContext>();
  req_.Clear();
  fill_(&req_, rng);
  status = grpc::Status();
  reader_ = (stub->*method_)(ctx_.get(), req_, cq);
  reader_->Finish(&resp_, &status, this);
}

}  // namespace revkv::bench

#endif  // REVKV_BENCH_GRPC_LOAD_H_
