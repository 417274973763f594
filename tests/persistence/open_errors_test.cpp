// store::open on folders and files it must refuse: locked, corrupt, read-only, not a folder.

#include "persistence/store.hpp"
#include "tests/support/persistence_test_support.hpp"

#include <filesystem>
#include <fstream>
#include <grp.h>
#include <string>
#include <sys/stat.h>

#include <gtest/gtest.h>

namespace {

using namespace souk::persistence;
using souk::test::child_report;
using souk::test::make_snapshot;
using souk::test::put_and_wait;
using souk::test::run_in_child;
using souk::test::store_defaults;
using souk::test::temp_dir;
using souk::test::write_all;

result<std::unique_ptr<store>> open_in(const std::string& dir) {
  return store::open(dir, store_defaults());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << bytes;
}

/// A closed store file with some rows, for damaging.
void make_store_with_rows(const std::string& dir, int rows) {
  auto s = open_in(dir);
  ASSERT_TRUE(s.ok()) << s.error().message;
  for (int i = 0; i < rows; ++i)
    ASSERT_TRUE((*s)->writer()
                    .submit({{put_snapshot{make_snapshot("cart", std::to_string(i), 1, 1,
                                                         std::string(200, 'z'))}},
                             {}})
                    .ok());
  (*s)->close();
}

// -- locking --------------------------------------------------------------------------------------

TEST(StoreOpen, SecondOpenOfAnOpenFolderIsRefusedAsLockedNamingThePid) {
  temp_dir dir;
  auto first = open_in(dir.path());
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = open_in(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, errc::folder_locked);
  EXPECT_NE(second.error().message.find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find(dir.path()), std::string::npos);
  EXPECT_TRUE((*first)->set_meta("still", "works").ok()); // the refusal did not disturb it

  (*first)->close();
  auto third = open_in(dir.path());
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(**(*third)->meta("still"), "works");
}

TEST(StoreOpen, FolderHeldByAnotherProcessIsRefusedNamingThatPid) {
  temp_dir dir;
  int to_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  int from_child[2];
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    auto s = open_in(dir.path());
    write_all(from_child[1], s.ok() ? "open\n" : "failed\n");
    char c;
    (void)::read(to_child[0], &c, 1); // hold the lock until the parent is done
    ::_exit(s.ok() ? 0 : 1);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  char buf[16] = {};
  ASSERT_GT(::read(from_child[0], buf, sizeof(buf) - 1), 0);
  EXPECT_STREQ(buf, "open\n");
  auto refused = open_in(dir.path());
  ::close(to_child[1]); // lets the child exit
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  ::close(from_child[0]);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, errc::folder_locked);
  EXPECT_NE(refused.error().message.find("pid " + std::to_string(pid)), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  EXPECT_TRUE(open_in(dir.path()).ok()); // the child's exit released the lock
}

// -- not a folder ---------------------------------------------------------------------------------

TEST(StoreOpen, DataPathThatIsARegularFileIsRefusedAsFolderUnusable) {
  temp_dir dir;
  auto file = dir / "plain-file";
  write_bytes(file, "not a folder");
  auto r = open_in(file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::folder_unusable);
  EXPECT_NE(r.error().message.find(file), std::string::npos) << r.error().message;

  auto below = open_in(file + "/sub"); // a folder cannot be created inside a file
  ASSERT_FALSE(below.ok());
  EXPECT_EQ(below.error().code, errc::folder_unusable);
  EXPECT_NE(below.error().message.find(file + "/sub"), std::string::npos);
}

TEST(StoreOpen, DatabasePathThatIsAFolderIsRefused) {
  temp_dir dir;
  std::filesystem::create_directory(dir / "souk.db");
  auto r = open_in(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().code, errc::ok);
  EXPECT_NE(r.error().message.find(dir / "souk.db"), std::string::npos) << r.error().message;
}

// -- corrupt files --------------------------------------------------------------------------------

TEST(StoreOpen, GarbageFileIsRefusedAsNotADatabaseNamingThePath) {
  temp_dir dir;
  write_bytes(dir / "souk.db", std::string(8192, 'x'));
  auto r = open_in(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::not_a_database) << r.error().message;
  EXPECT_NE(r.error().message.find(dir / "souk.db"), std::string::npos) << r.error().message;
  std::ifstream in{dir / "souk.db", std::ios::binary};
  std::string content{std::istreambuf_iterator<char>{in}, {}};
  EXPECT_EQ(content, std::string(8192, 'x')) << "a refused file is left as it was";
}

TEST(StoreOpen, ShortGarbageFileIsRefusedAsNotADatabase) {
  temp_dir dir;
  write_bytes(dir / "souk.db", "hello, I am not SQLite");
  auto r = open_in(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::not_a_database) << r.error().message;
}

TEST(StoreOpen, DamagedHeaderIsRefusedAsNotADatabase) {
  temp_dir dir;
  make_store_with_rows(dir.path(), 50);
  {
    std::fstream f{dir / "souk.db", std::ios::binary | std::ios::in | std::ios::out};
    f.seekp(0);
    f << "SQLite format 9\0"; // the 16-byte magic, damaged
    f.seekp(16);
    f.write("\x00\x03", 2); // page size 3: not a power of two
  }
  auto r = open_in(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::not_a_database) << r.error().message;
  EXPECT_NE(r.error().message.find(dir / "souk.db"), std::string::npos) << r.error().message;
}

TEST(StoreOpen, TruncatedCopyWithDamagedHeaderIsRefusedAsNotADatabase) {
  temp_dir dir;
  temp_dir copy;
  make_store_with_rows(dir.path(), 200);
  std::ifstream in{dir / "souk.db", std::ios::binary};
  std::string bytes{std::istreambuf_iterator<char>{in}, {}};
  ASSERT_GT(bytes.size(), 8192u);
  bytes.resize(bytes.size() / 2);
  for (std::size_t i = 0; i < 100; ++i)
    bytes[i] = static_cast<char>(0xA5);
  write_bytes(copy / "souk.db", bytes);
  auto r = open_in(copy.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::not_a_database) << r.error().message;
}

TEST(StoreOpen, TruncatedFileIsRefusedAsNotADatabase) {
  temp_dir dir;
  make_store_with_rows(dir.path(), 2000);
  auto size = std::filesystem::file_size(dir / "souk.db");
  ASSERT_GT(size, 100'000u);
  std::filesystem::resize_file(dir / "souk.db", size / 2); // header intact, pages lost
  auto r = open_in(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::not_a_database) << r.error().message;
  EXPECT_NE(r.error().message.find(dir / "souk.db"), std::string::npos) << r.error().message;
}

// -- read-only files and folders ------------------------------------------------------------------

constexpr int opened_ok = 100;

/// Opens `dir` in a child process that (when run as root) becomes `nobody` first, since root
/// ignores file permissions. The child exits with the errc's number (or `opened_ok`) and sends
/// the message through the pipe.
child_report open_as_unprivileged(const std::string& dir) {
  return run_in_child([&dir](int fd) {
    if (::geteuid() == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
        write_all(fd, "cannot drop root");
        return 90;
      }
    }
    auto r = store::open(dir, store_defaults());
    if (r.ok()) {
      (*r)->close();
      write_all(fd, "opened");
      return opened_ok;
    }
    write_all(fd, r.error().message);
    return static_cast<int>(r.error().code);
  });
}

/// Gives the folder and its files back to the owner's full use, so temp_dir can remove them.
void restore_permissions(const std::string& dir) {
  std::error_code ec;
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ec);
}

bool read_only_code(int code) {
  return code == static_cast<int>(errc::read_only) ||
         code == static_cast<int>(errc::folder_unusable);
}

TEST(StoreOpen, ReadOnlyFolderAndFileAreRefusedNamingThePath) {
  temp_dir dir;
  make_store_with_rows(dir.path(), 10);
  ASSERT_EQ(::chmod((dir / "souk.db").c_str(), 0444), 0);
  ASSERT_EQ(::chmod((dir / "LOCK").c_str(), 0444), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
  auto report = open_as_unprivileged(dir.path());
  restore_permissions(dir.path());
  EXPECT_TRUE(read_only_code(report.exit_code))
      << "exit " << report.exit_code << ": " << report.output;
  EXPECT_NE(report.output.find(dir.path()), std::string::npos) << report.output;
}

TEST(StoreOpen, ReadOnlyDatabaseFileInAWritableLockIsRefusedAsReadOnly) {
  temp_dir dir;
  make_store_with_rows(dir.path(), 10);
  ASSERT_EQ(::chmod((dir / "souk.db").c_str(), 0444), 0);
  ASSERT_EQ(::chmod((dir / "LOCK").c_str(), 0666), 0); // the lock is takeable
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
  auto report = open_as_unprivileged(dir.path());
  restore_permissions(dir.path());
  EXPECT_EQ(report.exit_code, static_cast<int>(errc::read_only)) << report.output;
  EXPECT_NE(report.output.find(dir / "souk.db"), std::string::npos) << report.output;
}

TEST(StoreOpen, ReadOnlyDatabaseFileInAWritableFolderIsRefusedAsReadOnly) {
  temp_dir dir;
  make_store_with_rows(dir.path(), 10);
  ASSERT_EQ(::chmod((dir / "souk.db").c_str(), 0444), 0);
  ASSERT_EQ(::chmod((dir / "LOCK").c_str(), 0666), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  auto report = open_as_unprivileged(dir.path());
  restore_permissions(dir.path());
  EXPECT_EQ(report.exit_code, static_cast<int>(errc::read_only)) << report.output;
  EXPECT_NE(report.output.find(dir / "souk.db"), std::string::npos) << report.output;
  // The refused open did not touch the data.
  ASSERT_EQ(::chmod((dir / "souk.db").c_str(), 0644), 0);
  auto s = open_in(dir.path());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*(*s)->count_snapshots(), 10);
}

TEST(StoreOpen, FolderThatCannotBeCreatedIsRefusedAsFolderUnusable) {
  temp_dir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
  auto report = open_as_unprivileged(dir / "new-data");
  restore_permissions(dir.path());
  EXPECT_EQ(report.exit_code, static_cast<int>(errc::folder_unusable)) << report.output;
  EXPECT_NE(report.output.find(dir / "new-data"), std::string::npos) << report.output;
}

TEST(StoreOpen, UnprivilegedChildCanOpenAFolderItMayWrite) {
  // The control for the tests above: the same child opens a folder it may write.
  temp_dir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  auto report = open_as_unprivileged(dir.path());
  EXPECT_EQ(report.exit_code, opened_ok) << report.output;
}

} // namespace
