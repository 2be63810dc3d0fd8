import Foundation
import TestSupport
import Testing

/// The agent with its state and audit chain in a real PostgreSQL (`state.postgres.urlEnv`).
@Suite("The agent on PostgreSQL")
struct PostgresAgentTests {
    @Test(
        "run --once promotes with the chain in a table; status, history, audit verify and export read it; a second agent is refused"
    )
    func promoteOnPostgres() throws {
        if let reason = PostgresCluster.unavailable {
            print("SKIPPED the agent on PostgreSQL: \(reason)")
            return
        }
        let cluster = try PostgresCluster()
        let fixture = try AgentFixture(stages: [deployStage("dev"), deployStage("staging", from: "dev")].joined(separator: "\n"))
        try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(
                of: "state: {path: ./state}", with: "state: {path: ./state, postgres: {urlEnv: PA_TEST_DATABASE}}"
            )
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let env = ["PA_ROOT": fixture.root, "PA_TEST_DATABASE": cluster.url]

        // Without the variable the agent does not start, and says which one.
        let unset = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(unset.status == 2 && unset.stderr.contains("PA_TEST_DATABASE"), "\(unset.stderr)")

        let run = try fixture.agent("run", "--once", environment: env)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(try String(contentsOfFile: "\(fixture.root)/staging/version.txt", encoding: .utf8) == "v1\n")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state/audit.jsonl"), "the chain is in the table")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state/state.sqlite"), "the state is in PostgreSQL")

        let status = try fixture.agent("status", "--output", "json", environment: env)
        #expect(status.status == 0 && status.stdout.contains("\"InSync\""), "\(status.stdout)\(status.stderr)")
        let history = try fixture.agent("history", "--pipeline", "shop", environment: env)
        #expect(history.stdout.contains("staging") && history.stdout.contains("succeeded"), "\(history.stdout)\(history.stderr)")
        let verify = try fixture.agent("audit", "verify", environment: env)
        #expect(verify.status == 0 && verify.stdout.contains("chain intact"), "\(verify.stdout)\(verify.stderr)")

        // The export is the file's format: the standalone verifier of audit.jsonl accepts it.
        let export = try fixture.agent("audit", "export", "-o", "jsonl", environment: env)
        let check = try Scratch()
        try check.write("audit.jsonl", export.stdout)
        let records = export.stdout.split(separator: "\n").count
        let head = try #require(
            export.stdout.split(separator: "\n").last.flatMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            })
        try sh(
            "sqlite3", check.sub("state.sqlite"),
            "CREATE TABLE audit_anchor (id INTEGER PRIMARY KEY, seq INTEGER, hash TEXT); "
                + "INSERT INTO audit_anchor VALUES (1, \(records), '\(head["hash"] as? String ?? "")')")
        let script = try runProcess(["python3", "\(repositoryRoot)/scripts/verify-audit.py", check.path])
        #expect(script.status == 0 && script.stdout.hasPrefix("intact: \(records) records"), "\(script.stdout)")

        // One agent at a time acts on a database: a second one, elsewhere, is refused while the first runs.
        let first = Process()
        first.executableURL = URL(fileURLWithPath: agentBinary())
        first.arguments = ["run", "--config", fixture.configPath]
        first.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer {
            first.terminate()
            first.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 2)
        let other = try Scratch()
        try other.write(
            "agent.yaml",
            "source: {url: \(fixture.remote), branch: main}\nstate: {path: ./state, postgres: {urlEnv: PA_TEST_DATABASE}}\n")
        let second = try runProcess([agentBinary(), "run", "--once", "--config", other.sub("agent.yaml")], environment: env)
        #expect(second.status != 0 && second.stderr.contains("another agent is running on this database"), "\(second.stderr)")
    }
}
