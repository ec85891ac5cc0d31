// Multipath discovery results as text, JSON (one line) and a DOT path graph of the per-flow links.
#pragma once

#include <string>

#include "hopscope/output/asn.hpp"
#include "hopscope/trace/mda.hpp"

namespace hopscope {

// With `asn` (--asn-file), every interface also gets its origin AS: text
// "[AS64500]", JSON "asns" per hop (beside "interfaces", null where
// unknown), DOT a line of its label.
std::string mda_text(const MdaResult& r, const AsnTable* asn = nullptr);
std::string mda_json(const MdaResult& r, const AsnTable* asn = nullptr);  // one line
// The per-flow links as a path graph (DOT).
std::string mda_dot(const MdaResult& r, const AsnTable* asn = nullptr);
// scamper's JSON tracelb object (one line, no newline): nodes, links with
// the probes that showed them, scamper's method names and flow ids.
void append_mda_scamper(std::string& out, const MdaResult& r);

}  // namespace hopscope
