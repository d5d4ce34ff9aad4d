// Provenance: the same value on every rank, describing ranks, hosts, software and Slurm.
#include <boost/mpi/collectives/all_gather.hpp>
#include <boost/serialization/string.hpp>
#include <cstdlib>

#include <gtest/gtest.h>

#include "spmdkit/runtime/provenance.hpp"
#include "test_support.hpp"

namespace {

spmd::Provenance collect_here() {
  const char* argv[] = {"spmd-demo", "--steps", "3", "it's quoted"};
  return spmd::Provenance::collect(spmd::test::world(), "demo", 4, argv,
                                   spmd::test::environment().threading());
}

TEST(Provenance, DescribesTheJob) {
  const auto& world = spmd::test::world();
  const spmd::Provenance p = collect_here();
  EXPECT_EQ(p.app, "demo");
  EXPECT_EQ(p.ranks, world.size());
  ASSERT_EQ(static_cast<int>(p.placement.size()), world.size());
  for (int r = 0; r < world.size(); ++r) {
    EXPECT_EQ(p.placement[static_cast<std::size_t>(r)].rank, r);
    EXPECT_GE(p.placement[static_cast<std::size_t>(r)].cores, 1);
  }
  EXPECT_GE(p.hosts.size(), 1U);
  EXPECT_LE(static_cast<int>(p.hosts.size()), world.size());
  EXPECT_GE(p.cores_per_rank_min, 1);
  EXPECT_LE(p.cores_per_rank_min, p.cores_per_rank_max);
  EXPECT_NE(p.mpi_library.find("MPI"), std::string::npos) << p.mpi_library;
  EXPECT_EQ(p.hdf5_version.rfind("1.", 0), 0U) << p.hdf5_version;
  EXPECT_FALSE(p.start_time_utc.empty());
  EXPECT_FALSE(p.version.empty());
  EXPECT_EQ(p.command_line_string(), "spmd-demo --steps 3 'it'\\''s quoted'");
}

TEST(Provenance, IdenticalOnEveryRank) {
  const auto& world = spmd::test::world();
  const std::string json = collect_here().to_json();
  std::vector<std::string> all;
  boost::mpi::all_gather(world.boost(), json, all);
  for (const auto& other : all) EXPECT_EQ(other, json);
  EXPECT_NE(json.find("\"ranks\":" + std::to_string(world.size())), std::string::npos) << json;
}

TEST(Provenance, TextReportListsEveryRank) {
  const spmd::Provenance p = collect_here();
  const std::string text = p.to_text();
  EXPECT_NE(text.find("ranks"), std::string::npos);
  EXPECT_NE(text.find(p.hosts.front()), std::string::npos);
  EXPECT_NE(text.find("not running under Slurm"), std::string::npos);
}

TEST(Provenance, ReadsSlurmEnvironment) {
  ::setenv("SLURM_JOB_ID", "4242", 1);
  ::setenv("SLURM_ARRAY_JOB_ID", "4240", 1);
  ::setenv("SLURM_ARRAY_TASK_ID", "2", 1);
  ::setenv("SLURM_RESTART_COUNT", "3", 1);
  ::setenv("SLURM_JOB_NODELIST", "node[1-2]", 1);
  const auto job = spmd::slurm_job_from_environment();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->job_id, "4242");
  EXPECT_EQ(job->array_job_id, "4240");
  EXPECT_EQ(job->array_task_id, "2");
  EXPECT_EQ(job->restart_count, 3);
  EXPECT_EQ(job->nodelist, "node[1-2]");
  const spmd::Provenance p = collect_here();
  ASSERT_TRUE(p.slurm.has_value());
  EXPECT_NE(p.to_json().find("\"restart_count\":3"), std::string::npos);
  for (const char* name : {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
                           "SLURM_RESTART_COUNT", "SLURM_JOB_NODELIST"}) {
    ::unsetenv(name);
  }
  EXPECT_FALSE(spmd::slurm_job_from_environment().has_value());
}

TEST(Provenance, AffinityListMatchesCount) {
  const auto [list, count] = spmd::affinity_cpus();
  EXPECT_GE(count, 1);
  EXPECT_FALSE(list.empty());
}

}  // namespace
