#include "hopscope/lab/rehash.hpp"

#include <bpf/libbpf.h>
#include <net/if.h>

#include <memory>

#include "hopscope/core/error.hpp"
#include "hopscope/sys/netns.hpp"
#include "lab_rehash.skel.h"

namespace hopscope {

void attach_rehash(const std::string& ns) {
  NetnsGuard g(ns);
  std::unique_ptr<hs_lab_rehash, decltype(&hs_lab_rehash__destroy)> skel(hs_lab_rehash__open_and_load(),
                                                                         &hs_lab_rehash__destroy);
  if (!skel) throw_errno("lab: load the rehash tc program");
  std::unique_ptr<struct if_nameindex, decltype(&if_freenameindex)> names(if_nameindex(), &if_freenameindex);
  if (!names) throw_errno("lab: list the interfaces of " + ns);
  for (const struct if_nameindex* i = names.get(); i->if_index; i++) {
    if (std::string(i->if_name) == "lo") continue;
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(i->if_index), .attach_point = BPF_TC_INGRESS);
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST) throw_errno("lab: clsact qdisc on " + std::string(i->if_name) + " in " + ns, -err);
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(skel->progs.hs_lab_rehash));
    if ((err = bpf_tc_attach(&hook, &opts)))
      throw_errno("lab: attach the rehash program on " + std::string(i->if_name) + " in " + ns, -err);
  }
}

}  // namespace hopscope
