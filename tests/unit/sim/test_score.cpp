#include <gtest/gtest.h>

#include <sstream>

#include "hopscope/sim/score.hpp"

using namespace hopscope::sim;

namespace {

// Path 0: A, {B1 B2} (diamond 1), C (silent), D; destination X answers at TTL 5.
// Path 1: A, E; destination Y is silent (TTL 3).
const char* kTruth =
    R"({"type":"sim","seed":1,"family":4,"destinations":2,"routers":6,"paths":2})"
    "\n"
    R"({"type":"path","id":0,"hops":[{"ttl":1,"routers":[{"addr":"A","silent":false}]},)"
    R"({"ttl":2,"routers":[{"addr":"B1","silent":false},{"addr":"B2","silent":false}],"diamond":1},)"
    R"({"ttl":3,"routers":[{"addr":"C","silent":true}]},{"ttl":4,"routers":[{"addr":"D","silent":false}]}]})"
    "\n"
    R"({"type":"path","id":1,"hops":[{"ttl":1,"routers":[{"addr":"A","silent":false}]},)"
    R"({"ttl":2,"routers":[{"addr":"E","silent":false}]}]})"
    "\n"
    R"({"type":"dest","dst":"X","path":0,"ttl":5,"reply":"answers"})"
    "\n"
    R"({"type":"dest","dst":"Y","path":1,"ttl":3,"reply":"silent"})"
    "\n";

std::string trace(const std::string& dst, const std::vector<std::vector<std::string>>& hops) {
  std::string s = R"({"type":"trace","dst":")" + dst + R"(","hops":[)";
  for (std::size_t i = 0; i < hops.size(); i++) {
    s += (i ? "," : "") + std::string(R"({"ttl":)") + std::to_string(i + 1) + R"(,"replies":[)";
    for (std::size_t k = 0; k < hops[i].size(); k++)
      s += (k ? "," : "") + std::string(R"({"addr":")") + hops[i][k] + R"(","flow":0})";
    s += "]}";
  }
  return s + "]}\n";
}

Score run(const std::string& results) {
  std::istringstream t(kTruth), r(results);
  return score(t, r);
}

}  // namespace

TEST(Score, HandComputedExample) {
  Score s = run(trace("X", {{"A"}, {"B1"}, {}, {"D"}, {"X"}}) + trace("Y", {{"A"}, {"E"}, {}}) + trace("Z", {{"A"}}) +
                R"({"type":"something else"})"
                "\n");
  EXPECT_EQ(s.traces, 3u);
  EXPECT_EQ(s.unknown_dests, 1u);
  EXPECT_EQ(s.truth_nodes, 5u) << "A B1 B2 D E (C is silent)";
  EXPECT_EQ(s.found_nodes, 4u);
  EXPECT_EQ(s.correct_nodes, 4u);
  EXPECT_DOUBLE_EQ(s.node_recall(), 0.8);
  EXPECT_DOUBLE_EQ(s.node_precision(), 1.0);
  EXPECT_EQ(s.truth_links, 3u) << "A>B1 A>B2 A>E (links through the silent C are not observable)";
  EXPECT_EQ(s.correct_links, 2u);
  EXPECT_NEAR(s.link_recall(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(s.paths, 2u);
  EXPECT_EQ(s.paths_exact, 2u);
  EXPECT_EQ(s.diamonds, 1u);
  EXPECT_EQ(s.diamonds_complete, 0u);
  EXPECT_DOUBLE_EQ(s.diamond_branch_recall, 0.5);
  const std::string report = score_report(s);
  const std::string last = report.substr(report.rfind('\n', report.size() - 2) + 1);
  EXPECT_EQ(last,
            "node_recall=0.8000 link_recall=0.6667 node_precision=1.0000 link_precision=1.0000 paths_exact=2/2\n");
}

TEST(Score, WrongHopsAreNotExactAndLowerPrecision) {
  Score s = run(trace("X", {{"A"}, {"Q"}, {}, {"D"}, {"X"}}) +  // Q is not on the path
                trace("Y", {{"A"}, {"E"}, {"Y"}}));             // Y should be silent
  EXPECT_EQ(s.paths_exact, 0u);
  EXPECT_EQ(s.found_nodes, 4u);
  EXPECT_EQ(s.correct_nodes, 3u);
  EXPECT_DOUBLE_EQ(s.node_precision(), 0.75);
  EXPECT_EQ(s.found_links, 2u) << "A>Q, A>E";
  EXPECT_DOUBLE_EQ(s.link_precision(), 0.5);
}

TEST(Score, MissingHopsAndDestinationsAreNotExact) {
  Score s = run(trace("X", {{"A"}, {}, {}, {"D"}, {"X"}}) +  // ttl 2 has no silent router
                trace("X", {{"A"}, {"B2"}, {}, {"D"}}));     // destination missing
  EXPECT_EQ(s.paths, 2u);
  EXPECT_EQ(s.paths_exact, 0u);
  EXPECT_EQ(s.diamonds_complete, 0u);
}

TEST(Score, BothDiamondBranchesMakeItComplete) {
  Score s = run(trace("X", {{"A"}, {"B1"}, {}, {"D"}, {"X"}}) + trace("X", {{"A"}, {"B2"}, {}, {"D"}, {"X"}}));
  EXPECT_EQ(s.diamonds_complete, 1u);
  EXPECT_DOUBLE_EQ(s.diamond_branch_recall, 1.0);
  EXPECT_EQ(s.correct_links, 2u);
}

TEST(Score, MalformedInputNamesTheLine) {
  std::istringstream t(kTruth), r("{\"type\":\"trace\"}\n{broken\n");
  try {
    score(t, r);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("line"), std::string::npos) << e.what();
  }
  std::istringstream empty(""), r2("");
  EXPECT_THROW(score(empty, r2), std::runtime_error);
}

// Found by the fuzzer (tests/fuzz/fuzz_score.cpp): each is one clear error
// naming its line, not an exception from the JSON library or undefined behaviour.
TEST(Score, ImpossibleValuesAreNamedWithTheirLine) {
  const auto error = [](const std::string& truth, const std::string& results) {
    std::istringstream t(truth), r(results);
    try {
      score(t, r);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // A destination on a path the file does not have (std::out_of_range before).
  EXPECT_EQ(error("{\"type\":\"dest\",\"dst\":\"198.19.0.1\",\"path\":7,\"reply\":\"answers\"}\n", ""),
            "truth: destination 198.19.0.1 is on path 7, which the file does not have");
  // A TTL too large for an int (a float-to-int conversion before: undefined).
  const std::string e1 = error(kTruth, "{\"type\":\"trace\",\"dst\":\"X\",\"hops\":[{\"ttl\":1e21}]}\n");
  EXPECT_EQ(e1, "results line 1: \"ttl\" is not an integer: 1e+21");
  // A type that is not a string: such a line is not a trace (an uncaught type_error before).
  EXPECT_EQ(error(kTruth, "{\"type\":3}\n"), "no error");
  EXPECT_NE(error("{\"type\":\"path\",\"id\":0.5,\"hops\":[]}\n", "").find("truth line 1:"), std::string::npos);
}

namespace {

// Path 0: A, {B1 B2} then {C1 C2 C3 C4} (diamond 1: each branch splits in two), D; W answers at TTL 5.
const char* kNestedTruth =
    R"({"type":"sim","seed":1,"family":4,"destinations":1,"routers":8,"paths":1})"
    "\n"
    R"({"type":"path","id":0,"hops":[{"ttl":1,"routers":[{"addr":"A","silent":false}]},)"
    R"({"ttl":2,"routers":[{"addr":"B1","silent":false},{"addr":"B2","silent":false}],"diamond":1},)"
    R"({"ttl":3,"routers":[{"addr":"C1","silent":false},{"addr":"C2","silent":false},)"
    R"({"addr":"C3","silent":false},{"addr":"C4","silent":false}],"diamond":1},)"
    R"({"ttl":4,"routers":[{"addr":"D","silent":false}]}]})"
    "\n"
    R"({"type":"dest","dst":"W","path":0,"ttl":5,"reply":"answers"})"
    "\n";

std::string mda(const std::vector<std::vector<std::string>>& hops,
                const std::vector<std::pair<std::string, std::string>>& links) {
  std::string s = R"({"type":"mda","dst":"W","hops":[)";
  for (std::size_t i = 0; i < hops.size(); i++) {
    s += (i ? "," : "") + std::string(R"({"ttl":)") + std::to_string(i + 1) + R"(,"interfaces":[)";
    for (std::size_t k = 0; k < hops[i].size(); k++) s += (k ? ",\"" : "\"") + hops[i][k] + "\"";
    s += "]}";
  }
  s += R"(],"links":[)";
  for (std::size_t i = 0; i < links.size(); i++)
    s += (i ? "," : "") + std::string(R"({"from":")") + links[i].first + R"(","to":")" + links[i].second +
         R"(","silent_between":0})";
  return s + "]}\n";
}

const std::vector<std::vector<std::string>> kNestedHops = {{"A"}, {"B1", "B2"}, {"C1", "C2", "C3", "C4"}, {"D"}, {"W"}};
const std::vector<std::pair<std::string, std::string>> kNestedLinks = {
    {"A", "B1"}, {"A", "B2"}, {"B1", "C1"}, {"B1", "C3"}, {"B2", "C2"}, {"B2", "C4"},
    {"C1", "D"}, {"C2", "D"}, {"C3", "D"},  {"C4", "D"},  {"D", "W"}};

Score run_nested(const std::string& results) {
  std::istringstream t(kNestedTruth), r(results);
  return score(t, r);
}

}  // namespace

// Branch b of a hop twice as wide follows branch b mod 2 of the one before (the same flow
// hash picks both): 2 + 4 + 4 truth links; MDA results are scored by their own links.
TEST(Score, NestedDiamondLinksFromAnMdaResult) {
  Score s = run_nested(mda(kNestedHops, kNestedLinks));
  EXPECT_EQ(s.mda, 1u);
  EXPECT_EQ(s.traces, 0u);
  EXPECT_EQ(s.truth_nodes, 8u);
  EXPECT_EQ(s.correct_nodes, 8u) << "the destination is not a node";
  EXPECT_EQ(s.truth_links, 10u);
  EXPECT_EQ(s.found_links, 10u) << "the link to the destination is not counted";
  EXPECT_EQ(s.correct_links, 10u);
  EXPECT_EQ(s.paths_exact, 1u);
  EXPECT_EQ(s.diamonds_complete, 1u);
  EXPECT_EQ(score_report(s).substr(0, 31), "traces=0 mda=1 unknown_destinat");
}

TEST(Score, MdaLinksTheFlowHashCannotMakeLowerPrecision) {
  auto links = kNestedLinks;
  links.emplace_back("B1", "C2");  // B1 is hash % 2 == 0, C2 is hash % 4 == 1: no flow goes through both
  links.erase(links.begin() + 3);  // B1>C3 missing
  Score s = run_nested(mda(kNestedHops, links));
  EXPECT_EQ(s.found_links, 10u);
  EXPECT_EQ(s.correct_links, 9u);
  EXPECT_DOUBLE_EQ(s.link_recall(), 0.9);
  EXPECT_DOUBLE_EQ(s.link_precision(), 0.9);
  EXPECT_EQ(score_report(run(trace("X", {{"A"}}))).substr(0, 28), "traces=1 unknown_destination");
}
