// `hopscope watch`: did a destination's path change between two traces?
// A change is a hop whose set of answering addresses differs while both
// traces heard it (a hop silent in one trace is loss, not a change), or a
// destination reached at another distance.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hopscope/trace/tracer.hpp"

namespace hopscope::watch {

struct HopChange {
  int ttl = 0;
  std::vector<IpAddress> before;  // sorted
  std::vector<IpAddress> after;
};

struct PathChange {
  std::vector<HopChange> hops;  // the hops whose address set changed
  int length_before = 0;        // TTL at which the destination answered (0: not reached)
  int length_after = 0;
};

// The sorted addresses that answered at each TTL (index = ttl - first_ttl).
std::vector<std::vector<IpAddress>> hop_addresses(const TraceResult& r);
// TTL at which the destination itself answered; 0 when it did not.
int reached_at(const TraceResult& r);
// The change from `before` to `after`, if any.
std::optional<PathChange> path_change(const TraceResult& before, const TraceResult& after);

}  // namespace hopscope::watch
