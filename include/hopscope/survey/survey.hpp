// `hopscope survey`: many destinations, every (target, TTL) pair once in a
// keyed random order at a fixed rate, through AF_XDP or the kernel
// generator, replies matched in XDP. run_survey() wires the engine
// (engine.hpp) to the real transport.
#pragma once

#include <ostream>
#include <string>

#include "hopscope/survey/engine.hpp"
#include "hopscope/survey/targets.hpp"

namespace hopscope::survey {

// Runs the survey; writes one trace object (NDJSON) per target to `out`, each
// as soon as nothing more will be sent to its destination.
SurveySummary run_survey(const TargetList& targets, const SurveyOptions& opts, std::ostream& out);
// The summary; its last line is
// "probes_sent=… replies=… destinations=… duration_s=… rate_pps=… dropped=…".
std::string summary_text(const SurveySummary& s);

}  // namespace hopscope::survey
