import Foundation
import TestSupport
import Testing

/// The agent with its state and audit chain in a real PostgreSQL (`state.postgres.urlEnv`).
@Suite("The agent on PostgreSQL")
struct PostgresAgentTests {
    @Test(
        "run --once promotes with the chain in a table; status, history, audit verify and export read it; a second agent joins"
    )
    func promoteOnPostgres() throws {
        guard let cluster = try PostgresCluster.forTest("the agent on PostgreSQL") else { return }
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

        // Rebuilding state.sqlite from a file log means nothing here: refused, and nothing is written.
        let rebuild = try fixture.agent("state", "rebuild", environment: env)
        #expect(rebuild.status == 1 && rebuild.stderr.contains("both in the database"), "\(rebuild.stdout)\(rebuild.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state/state.sqlite"))

        // Agents share a database: a second one, elsewhere, joins while the first runs (and finds nothing to do);
        // `state copy` refuses to write into a database agents are running on. The first serves the web page.
        let port = try freeLoopbackPort()
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try Data((config + "http: {listen: \"127.0.0.1:\(port)\"}\n").utf8).write(to: URL(fileURLWithPath: fixture.configPath))
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
        #expect(second.status == 0 && second.stdout.isEmpty, "\(second.stdout)\(second.stderr)")
        let agents = try fixture.agent("status", environment: env).stdout
        #expect(agents.contains("live (coordinator)") && agents.contains(" stopped, "), "\(agents)")
        let page = try runProcess(["curl", "-s", "http://127.0.0.1:\(port)/"]).stdout
        #expect(page.contains("<h2>Agents</h2>") && page.contains(" (coordinator), heartbeat "), "\(page)")
        #expect(page.contains(">InSync<") && page.contains(#"href="/pipelines/shop/stages/staging""#))
        let audit = try runProcess(["curl", "-s", "http://127.0.0.1:\(port)/audit?type=promotion."]).stdout
        #expect(audit.contains(">chain intact<") && audit.contains(">promotion.succeeded<"), "the chain in the table: \(audit)")
        let promotion = try runProcess(["curl", "-s", "http://127.0.0.1:\(port)/promotions/2"]).stdout
        #expect(promotion.contains("step <code>deploy</code>") && promotion.contains(">succeeded<"), "\(promotion)")
        try other.write("sqlite.yaml", "source: {url: \(fixture.remote), branch: main}\nstate: {path: ./copy-from}\n")
        let copy = try runProcess(
            [agentBinary(), "state", "copy", "--from", other.sub("sqlite.yaml"), "--to", other.sub("agent.yaml")],
            environment: env)
        #expect(copy.status == 1 && copy.stderr.contains("agents are running on this database"), "\(copy.stderr)")
    }

    @Test("state copy: SQLite to PostgreSQL, the agent carries on there, and back into an empty state.path; chains verify")
    func copyBothWays() throws {
        guard let cluster = try PostgresCluster.forTest("state copy") else { return }
        let fixture = try AgentFixture(stages: [deployStage("dev"), deployStage("staging", from: "dev")].joined(separator: "\n"))
        let env = ["PA_ROOT": fixture.root, "PA_TEST_DATABASE": cluster.url]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let onSQLite = try fixture.status()

        let sqliteConfig = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        let postgresConfig = sqliteConfig.replacingOccurrences(
            of: "state: {path: ./state}", with: "state: {path: ./state, postgres: {urlEnv: PA_TEST_DATABASE}}")
        let (fromFile, toFile) = (fixture.configPath, "\(fixture.root)/agent-postgres.yaml")
        try postgresConfig.write(toFile: toFile, atomically: false, encoding: .utf8)
        let copy = { (from: String, to: String) in
            try runProcess([agentBinary(), "state", "copy", "--from", from, "--to", to], environment: env)
        }
        let copied = try copy(fromFile, toFile)
        #expect(copied.status == 0 && copied.stdout.contains("the copy verifies"), "\(copied.stdout)\(copied.stderr)")
        let again = try copy(fromFile, toFile)
        #expect(again.status == 1 && again.stderr.contains("already holds state"), "\(again.stderr)")
        let same = try copy(fromFile, fromFile)
        #expect(same.status == 1 && same.stderr.contains("exactly one of the two configs"), "\(same.stderr)")
        fixture.configPath = toFile

        // The same state, read from PostgreSQL; the agent carries on there, the chain growing from the copied head.
        let status = try fixture.agent("status", "--output", "json", environment: env)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(
            try fixture.status(environment: env).mapValues { $0["current"] as? String }
                == onSQLite.mapValues { $0["current"] as? String })
        try fixture.push("v2", files: ["app/version.txt": "v2\n"])
        let run = try fixture.agent("run", "--once", environment: env)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(try String(contentsOfFile: "\(fixture.root)/staging/version.txt", encoding: .utf8) == "v2\n")
        #expect(try fixture.agent("audit", "verify", environment: env).stdout.contains("chain intact"))
        let onPostgres = try fixture.status(environment: env)

        // Back into an empty state.path: the file chain and the anchor verify, and status reads the same.
        let backFile = "\(fixture.root)/agent-back.yaml"
        try sqliteConfig.replacingOccurrences(of: "path: ./state}", with: "path: ./state-back}")
            .write(toFile: backFile, atomically: false, encoding: .utf8)
        let back = try copy(toFile, backFile)
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        fixture.configPath = backFile
        let verify = try fixture.agent("audit", "verify", environment: env)
        #expect(verify.status == 0 && verify.stdout.contains("chain intact"), "\(verify.stdout)\(verify.stderr)")
        let script = try runProcess(["python3", "\(repositoryRoot)/scripts/verify-audit.py", "\(fixture.root)/state-back"])
        #expect(script.status == 0, "\(script.stdout)")
        #expect(
            try fixture.status(environment: env).mapValues { $0["current"] as? String }
                == onPostgres.mapValues { $0["current"] as? String })
        #expect(try fixture.agent("run", "--once", environment: env).status == 0, "the agent runs on the copy")
    }
}
