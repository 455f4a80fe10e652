#include "bench/grpc_load.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "bench/progress.h"

namespace revkv::bench {
namespace {

// Driving threads: the machine's cores are shared with the servers, so a
// few threads carry any number of calls.
constexpr uint64_t kMaxThreads = 2;

}  // namespace

LoadResult RunLoad(const std::vector<std::shared_ptr<grpc::Channel>>& channels, uint64_t clients,
                   double seconds, uint64_t total_calls, uint64_t seed,
                   const std::function<std::unique_ptr<LoadCall>()>& make) {
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  for (const auto& ch : channels) stubs.push_back(etcdserverpb::KV::NewStub(ch));
  const uint64_t threads = std::min(clients, kMaxThreads);
  std::vector<LoadResult> parts(threads);
  std::atomic<uint64_t> issued{0};
  const uint64_t begin = MonotonicNs();
  const uint64_t end = begin + uint64_t(seconds * 1e9);
  auto may_issue = [&] {
    if (total_calls > 0) return issued.fetch_add(1, std::memory_order_relaxed) < total_calls;
    return MonotonicNs() < end;
  };
  std::vector<std::thread> drivers;
  for (uint64_t t = 0; t < threads; ++t) {
    drivers.emplace_back([&, t] {
      LoadResult& out = parts[t];
      std::mt19937_64 rng(seed * 7919 + t);
      grpc::CompletionQueue cq;
      std::vector<std::unique_ptr<LoadCall>> calls;
      for (uint64_t slot = t; slot < clients; slot += threads) {
        calls.push_back(make());
        calls.back()->stub = stubs[slot % stubs.size()].get();
      }
      uint64_t in_flight = 0;
      for (size_t i = 0; i < calls.size(); ++i) {
        if (!may_issue()) break;
        calls[i]->start_ns = MonotonicNs();
        calls[i]->Start(&cq, rng);
        ++in_flight;
      }
      uint64_t done = 0;
      void* tag;
      bool ok;
      while (in_flight > 0 && cq.Next(&tag, &ok)) {
        --in_flight;
        auto* call = static_cast<LoadCall*>(tag);
        const uint64_t now = MonotonicNs();
        if (ok && call->status.ok()) {
          out.sample.latency.Record(now - call->start_ns);
          out.sample.timeline.Record(now - begin);
          ++done;
        } else if (out.errors++ == 0) {
          out.first_error = std::to_string(int(call->status.error_code())) + ": " +
                            call->status.error_message();
        }
        if (may_issue()) {
          call->start_ns = MonotonicNs();
          call->Start(&cq, rng);
          ++in_flight;
        }
      }
      cq.Shutdown();
      while (cq.Next(&tag, &ok)) {
      }
      out.sample.n = double(done);
    });
  }
  for (auto& d : drivers) d.join();
  LoadResult all;
  all.sample.n = 0;
  for (LoadResult& p : parts) {
    all.sample.n += p.sample.n;
    all.sample.latency.Merge(p.sample.latency);
    all.sample.timeline.Merge(p.sample.timeline);
    all.errors += p.errors;
    if (all.first_error.empty()) all.first_error = p.first_error;
  }
  const uint64_t elapsed = MonotonicNs() - begin;
  all.sample.SetTime(uint64_t(all.sample.n), elapsed);
  return all;
}

}  // namespace revkv::bench
