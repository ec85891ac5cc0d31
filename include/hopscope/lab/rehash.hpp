// The lab's routers drop the skb hash packets arrive with (bpf/lab_rehash.bpf.c).
#pragma once

#include <string>

namespace hopscope {

// Attaches the rehash tc program at the ingress of every interface of network
// namespace `ns` but lo. The filters stay with the namespace (gone with it).
void attach_rehash(const std::string& ns);

}  // namespace hopscope
