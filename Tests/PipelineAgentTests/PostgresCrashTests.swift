import Foundation
import TestSupport
import Testing

/// The crash enumeration of `CrashEnumerationTests` against the PostgreSQL store: the agent killed right after each of
/// its write transactions in turn (`PA_TEST_KILL_AFTER_WRITE`), restarted on a copy of the database as it was, and
/// the same invariants checked.
@Suite("Crash-exact outcomes on PostgreSQL: a kill after every write of a promotion", .serialized)
struct PostgresCrashTests {
    let helpers = CrashEnumerationTests()

    @Test("a promotion that succeeds, and one that fails verification and is rolled back: killed after each write, restarted")
    func everyWrite() throws {
        guard let cluster = try PostgresCluster.forTest("crash enumeration on PostgreSQL") else { return }
        let fixture = try AgentFixture(stages: CrashEnumerationTests.stage)
        try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(
                of: "state: {path: ./state}", with: "state: {path: ./state, postgres: {urlEnv: PA_TEST_DATABASE}}"
            )
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        try psql(cluster, "CREATE DATABASE first_run")
        let succeeding = try enumerate(fixture, cluster, template: "first_run") { root, env in
            try helpers.checkInvariants(
                root, deployed: [deployment(v1)], environment: env)
        }
        #expect(succeeding > 8, "a promotion makes more than 8 writes (\(succeeding))")

        // v1 deployed, then a bad candidate: its promotion fails verification and is rolled back.
        let base = ["PA_ROOT": fixture.root, "PA_TEST_DATABASE": url(cluster, "first_run")]
        #expect(try fixture.agent("run", "--once", environment: base).status == 0)
        let bad = try fixture.push("bad", files: ["app/version.txt": "v2 bad\n"])
        let failing = try enumerate(fixture, cluster, template: "first_run") { root, env in
            try helpers.checkInvariants(root, deployed: [deployment(v1)], failed: bad, environment: env)
        }
        #expect(failing > 8, "a rolled-back promotion makes more than 8 writes (\(failing))")
        print("crash enumeration on PostgreSQL: \(succeeding) and \(failing) kill points tried")
    }

    func deployment(_ commit: String) -> CrashEnumerationTests.Deployment {
        .init(pipeline: "shop", commit: commit, source: "app/version.txt", file: "deployed")
    }

    /// For N = 1, 2, …: copies of the directory and of the `template` database, `run --once` killed after its N-th
    /// write, a restart, `check`; stops at the first N the run survives. Returns how many points were tried.
    func enumerate(
        _ fixture: AgentFixture, _ cluster: PostgresCluster, template: String, check: (String, [String: String]) throws -> Void
    ) throws -> Int {
        for n in 1...200 {
            let copy = try helpers.copyOf(fixture.root)
            let database = "crash_\(UUID().uuidString.prefix(8).lowercased())"
            try psql(cluster, "CREATE DATABASE \(database) TEMPLATE \(template)")
            let env = ["PA_ROOT": copy.path, "PA_TEST_DATABASE": url(cluster, database)]
            let run = [agentBinary(), "run", "--once", "--config", copy.sub("agent.yaml")]
            let killed = try runProcess(run, environment: env.merging(["PA_TEST_KILL_AFTER_WRITE": "\(n)"]) { $1 })
            let restart = try runProcess(run, environment: env)
            #expect(restart.status == 0 || restart.status == 1, "restart after a kill after write \(n): \(restart.stderr)")
            try check(copy.path, env)
            try psql(cluster, "DROP DATABASE \(database)")
            if killed.status != SIGKILL { return n }
        }
        Issue.record("the run never completed within 200 writes")
        return 200
    }

    func url(_ cluster: PostgresCluster, _ database: String) -> String {
        cluster.url.replacingOccurrences(of: "/postgres?", with: "/\(database)?")
    }

    func psql(_ cluster: PostgresCluster, _ statement: String) throws {
        let bin = PostgresCluster.binaries ?? "/usr/bin"
        _ = try sh("\(bin)/psql", "-q", "-v", "ON_ERROR_STOP=1", cluster.url, "-c", statement)
    }
}
