#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "hopscope/sys/output_file.hpp"

using namespace hopscope;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string error_of(const fs::path& p) {
  try {
    OutputFile f(p.string());
    f.stream() << "results\n";
    f.close();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "written";
}

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hopscope-unit-out-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "secret") << "root only\n";
    fs::permissions(dir_ / "secret", fs::perms::owner_read | fs::perms::owner_write);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

}  // namespace

// A symbolic link left where the results go made `survey -O` overwrite its target.
TEST_F(OutputFileTest, ASymbolicLinkIsNotFollowed) {
  fs::create_symlink(dir_ / "secret", dir_ / "results.ndjson");
  EXPECT_EQ(error_of(dir_ / "results.ndjson"), "cannot write '" + (dir_ / "results.ndjson").string() +
                                                   "': it is a symbolic link (not followed: give the file's own path)");
  EXPECT_EQ(read(dir_ / "secret"), "root only\n");
  FILE* f = nullptr;
  EXPECT_THROW(f = open_output_file((dir_ / "results.ndjson").string()), std::runtime_error);
  EXPECT_EQ(f, nullptr);
}

TEST_F(OutputFileTest, AFileWithOtherHardLinksIsNotOverwritten) {
  fs::create_hard_link(dir_ / "secret", dir_ / "results.ndjson");
  EXPECT_NE(error_of(dir_ / "results.ndjson").find("it has other hard links (not overwritten)"), std::string::npos);
  EXPECT_EQ(read(dir_ / "secret"), "root only\n");
}

TEST_F(OutputFileTest, NewFilesAre0644AndOldOnesTruncated) {
  const mode_t old = umask(022);
  EXPECT_EQ(error_of(dir_ / "new.ndjson"), "written");
  umask(old);
  EXPECT_EQ(read(dir_ / "new.ndjson"), "results\n");
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "new.ndjson").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  std::ofstream(dir_ / "old.ndjson") << "a much longer earlier run's results\n";
  EXPECT_EQ(error_of(dir_ / "old.ndjson"), "written");
  EXPECT_EQ(read(dir_ / "old.ndjson"), "results\n");
  EXPECT_EQ(error_of("/dev/null"), "written") << "devices are fine";
  EXPECT_NE(error_of(dir_ / "no-such-dir" / "x").find("No such file or directory"), std::string::npos);
}
