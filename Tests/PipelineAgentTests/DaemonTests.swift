import Foundation
import TestSupport
import Testing

/// `pipeline-agent run` as a long-running process with its HTTP port on loopback.
final class RunningAgent: @unchecked Sendable {
    let process = Process()
    let port: UInt16

    /// `stderrFile`: where the agent's log goes (discarded when nil).
    init(_ fixture: AgentFixture, port: UInt16, environment: [String: String], stderrFile: String? = nil) throws {
        self.port = port
        process.executableURL = URL(fileURLWithPath: agentBinary())
        process.arguments = ["run", "--config", fixture.configPath]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        if let stderrFile {
            _ = FileManager.default.createFile(atPath: stderrFile, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: stderrFile)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        guard waitForPort(port) else { throw CommandFailed.socket("agent HTTP did not start") }
    }

    /// SIGTERM, then the exit status.
    func terminate() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    func curl(_ arguments: String...) throws -> (code: String, body: String) {
        let result = try runProcess(["curl", "-s", "-w", "\n%{http_code}"] + arguments)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

func hmacHex(_ secret: String, _ message: String) throws -> String {
    try sh(
        "python3", "-c",
        "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())",
        secret, message)
}

@Suite("The agent as a service")
struct DaemonTests {
    static func fixture(port: UInt16, stage: String = deployStage("dev", strict: false)) throws -> AgentFixture {
        try AgentFixture(
            stages: stage,
            extraConfig: "shutdownGrace: 1s\nhttp: {listen: \"127.0.0.1:\(port)\", webhookSecretEnv: PA_TEST_HOOK}\n")
    }

    @Test("a signed webhook triggers a promotion at once; bad, missing and replayed signatures get 401; big bodies 413")
    func webhooks() throws {
        let port = try freeLoopbackPort()
        let fixture = try Self.fixture(port: port)
        try fixture.git.scratch.write(
            "agent.yaml",
            "source: {url: ./team.git, branch: main, pollInterval: 1h}\nstate: {path: ./state}\nhttp: {listen: \"127.0.0.1:\(port)\", webhookSecretEnv: PA_TEST_HOOK}\n"
        )
        let agent = try RunningAgent(fixture, port: port, environment: ["PA_ROOT": fixture.root, "PA_TEST_HOOK": "hook-secret"])
        let url = "http://127.0.0.1:\(port)/hooks/git"
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: "\(fixture.root)/dev/version.txt") { usleep(50_000) }
        let v2 = try fixture.push("v2", files: ["app/version.txt": "v2\n"])

        let body = #"{"ref":"refs/heads/main"}"#
        let github = try hmacHex("hook-secret", body)
        #expect(try agent.curl("-X", "POST", "-H", "X-Hub-Signature-256: sha256=deadbeef", "-d", body, url).code == "401")
        #expect(try agent.curl("-X", "POST", "-d", body, url).code == "401")
        let stamp = String(Int(Date().timeIntervalSince1970))
        let generic = try hmacHex("hook-secret", "\(stamp).\(body)")
        let old = String(Int(Date().timeIntervalSince1970) - 3600)
        let stale = try hmacHex("hook-secret", "\(old).\(body)")
        #expect(
            try agent.curl(
                "-X", "POST", "-H", "X-Pipeline-Agent-Timestamp: \(old)", "-H", "X-Pipeline-Agent-Signature: sha256=\(stale)",
                "-d", body, url
            ).code == "401")
        let big = fixture.git.scratch.sub("big.json")
        try Data(count: 2 << 20).write(to: URL(fileURLWithPath: big))
        #expect(try agent.curl("-X", "POST", "--data-binary", "@\(big)", url).code == "413")
        #expect(
            try String(contentsOfFile: "\(fixture.root)/dev/version.txt", encoding: .utf8) == "v1\n", "rejected hooks do nothing")

        let started = Date()
        #expect(
            try agent.curl(
                "-X", "POST", "-H", "X-Hub-Signature-256: sha256=\(github)", "-H", "X-GitHub-Delivery: d1", "-d", body, url
            ).code == "202")
        for _ in 0..<200 {
            if (try? String(contentsOfFile: "\(fixture.root)/dev/version.txt", encoding: .utf8)) == "v2\n" { break }
            usleep(20_000)
        }
        #expect(try String(contentsOfFile: "\(fixture.root)/dev/version.txt", encoding: .utf8) == "v2\n")
        #expect(Date().timeIntervalSince(started) < 4, "promoted without waiting for the 1h poll")
        #expect(
            try agent.curl(
                "-X", "POST", "-H", "X-Hub-Signature-256: sha256=\(github)", "-H", "X-GitHub-Delivery: d1", "-d", body, url
            ).code == "401")
        #expect(
            try agent.curl(
                "-X", "POST", "-H", "X-Pipeline-Agent-Timestamp: \(stamp)", "-H", "X-Pipeline-Agent-Signature: sha256=\(generic)",
                "-d", body, url
            ).code == "202")
        #expect(
            try agent.curl(
                "-X", "POST", "-H", "X-Pipeline-Agent-Timestamp: \(stamp)", "-H", "X-Pipeline-Agent-Signature: sha256=\(generic)",
                "-d", body, url
            ).code == "401")
        // A GitHub body replayed with a fresh delivery id, a GitLab body replayed with its token: refused.
        #expect(
            try agent.curl(
                "-X", "POST", "-H", "X-Hub-Signature-256: sha256=\(github)", "-H", "X-GitHub-Delivery: fresh-id", "-d", body, url
            ).code == "401")
        let gitlabBody = #"{"object_kind":"push","after":"\#(v2)"}"#
        #expect(try agent.curl("-X", "POST", "-H", "X-Gitlab-Token: hook-secret", "-d", gitlabBody, url).code == "202")
        #expect(try agent.curl("-X", "POST", "-H", "X-Gitlab-Token: hook-secret", "-d", gitlabBody, url).code == "401")
        #expect(try agent.curl("-X", "POST", "-H", "X-Gitlab-Token: wrong", "-d", body + " ", url).code == "401")

        #expect(try agent.curl("http://127.0.0.1:\(port)/healthz").code == "200")
        #expect(try agent.curl("http://127.0.0.1:\(port)/readyz").code == "200")
        let metrics = try agent.curl("http://127.0.0.1:\(port)/metrics").body
        #expect(metrics.contains(#"pipeline_agent_promotions_total{pipeline="shop",stage="dev",result="succeeded"}"#))
        #expect(metrics.contains("pipeline_agent_reconcile_passes_total"))
        #expect(metrics.contains(#"pipeline_agent_build_info{version="0.1.0",libgit2=""#), "\(metrics.prefix(2000))")
        for name in [
            "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds",
        ] {
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("\(name) ") }
            let value = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
            #expect(value > 0, "\(name): \(line ?? "missing")")
        }
        #expect(metrics.contains(#"pipeline_agent_stage_phase{pipeline="shop",stage="dev",phase="InSync"} 1"#))
        let status = try agent.curl("http://127.0.0.1:\(port)/api/v1/status").body
        #expect(status.contains(v2))
        #expect(agent.terminate() == 0)
    }

    @Test("a signed push webhook fetches at once: one ref advertisement from the remote, not a listing and a fetch")
    func webhookFetchesAtOnce() throws {
        let port = try freeLoopbackPort()
        let fixture = try Self.fixture(port: port)
        let requests = fixture.git.scratch.sub("requests.log")
        let server = try GitHTTPServer(serving: fixture.git.scratch.path, token: "t0ken", requestLog: requests)
        try fixture.git.scratch.write(
            "agent.yaml",
            "source: {url: \"\(server.url("team.git"))\", branch: main, pollInterval: 1h, tokenEnv: PA_TEST_GIT_TOKEN}\n"
                + "state: {path: ./state}\nhttp: {listen: \"127.0.0.1:\(port)\", webhookSecretEnv: PA_TEST_HOOK}\n")
        let environment = ["PA_ROOT": fixture.root, "PA_TEST_HOOK": "s3cret", "PA_TEST_GIT_TOKEN": "t0ken"]
        let agent = try RunningAgent(fixture, port: port, environment: environment)
        let first = try fixture.git.git("rev-parse", "HEAD")
        let deployed = { (candidate: String) in
            // A loop `where` only skips iterations; this stops as soon as the candidate is deployed.
            for _ in 0..<200 {
                if try fixture.status()["dev"]?["current"] as? String == candidate { return true }
                usleep(50_000)
            }
            return false
        }
        #expect(try deployed(first))

        try Data().write(to: URL(fileURLWithPath: requests))
        let pushed = try fixture.push("v2", files: ["app/version.txt": "v2\n"])
        let hook = try agent.curl(
            "-X", "POST", "-H", "X-Gitlab-Token: s3cret", "-d", "{\"object_kind\":\"push\",\"after\":\"\(pushed)\"}",
            "http://127.0.0.1:\(port)/hooks/git")
        #expect(hook.code == "202")
        #expect(try deployed(pushed))
        // The push pass's requests: up to its fetch (a promotion's end wakes another pass, which lists refs).
        let log = try String(contentsOfFile: requests, encoding: .utf8)
        let pushPass = log.split(separator: "\n").prefix { !$0.hasPrefix("POST") }
        #expect(pushPass.count == 1 && pushPass.allSatisfy { $0.contains("/info/refs") }, "one listing, the fetch's: \(log)")
        #expect(agent.terminate() == 0)
        withExtendedLifetime(server) {}
    }

    @Test("SIGTERM with a step running: the step is stopped, the promotion interrupted, exit 0; a restart finishes it")
    func gracefulShutdown() throws {
        let port = try freeLoopbackPort()
        let stage = [
            "    - name: dev", "      steps:",
            #"        - {name: slow, run: 'if [ ! -e "$PA_ROOT/started" ]; then touch "$PA_ROOT/started"; sleep 60; fi; echo done > "$PA_ROOT/done"'}"#,
            "      rollback:", #"        - {name: undo, run: 'touch "$PA_ROOT/rolled-back"'}"#,
        ].joined(separator: "\n")
        let fixture = try Self.fixture(port: port, stage: stage)
        let agent = try RunningAgent(fixture, port: port, environment: ["PA_ROOT": fixture.root, "PA_TEST_HOOK": "x"])
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: "\(fixture.root)/started") { usleep(50_000) }
        let stopping = Date()
        #expect(agent.terminate() == 0)
        let took = Date().timeIntervalSince(stopping)
        #expect(took >= 1 && took < 15, "the step gets its 1s grace period, then is killed (took \(took)s)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/rolled-back"), "no new step starts while stopping")
        var types = try fixture.auditTypes()
        #expect(types.contains("promotion.interrupted") && types.last == "agent.stopped")

        let restart = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(restart.status == 0)
        #expect(FileManager.default.fileExists(atPath: "\(fixture.root)/done"))
        #expect(try fixture.status()["dev"]?["phase"] as? String == "InSync")
        types = try fixture.auditTypes()
        #expect(types.contains("promotion.succeeded"))
        #expect(try fixture.agent("audit", "verify").status == 0)
    }

    @Test("ready during a long promotion; a burst of webhooks coalesces: at most one pass queued behind the one in flight")
    func readinessAndCoalescing() throws {
        let port = try freeLoopbackPort()
        let stage = [
            "    - name: dev", "      steps:",
            #"        - {name: slow, run: 'touch "$PA_ROOT/started"; sleep 4; touch "$PA_ROOT/done"'}"#,
        ].joined(separator: "\n")
        let fixture = try Self.fixture(port: port, stage: stage)
        try fixture.git.scratch.write(
            "agent.yaml",
            "source: {url: ./team.git, branch: main, pollInterval: 1h}\nstate: {path: ./state}\nhttp: {listen: \"127.0.0.1:\(port)\", webhookSecretEnv: PA_TEST_HOOK}\n"
        )
        let agent = try RunningAgent(fixture, port: port, environment: ["PA_ROOT": fixture.root, "PA_TEST_HOOK": "s3cret"])
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: "\(fixture.root)/started") { usleep(25_000) }
        let ready = try agent.curl("http://127.0.0.1:\(port)/readyz")
        #expect(ready.code == "200", "ready while a promotion runs: \(ready.body)")
        let url = "http://127.0.0.1:\(port)/hooks/git"
        // 300 distinct pushes (an identical body would be a replay).
        let burst = (0..<300).flatMap { index in
            (index == 0 ? [] : ["--next"])
                + [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}\\n", "-X", "POST", "-H", "X-Gitlab-Token: s3cret", "-d",
                    "{\"n\":\(index)}", url,
                ]
        }
        // Sent 50 at a time, so that they arrive faster than any pass ends: one at a time, each webhook could
        // find the previous pass finished (passes got fast enough to meet the bound only by luck).
        let sent = try runProcess(["curl", "--parallel", "--parallel-immediate", "--parallel-max", "50"] + burst)
        #expect(sent.stdout.split(separator: "\n").filter { $0 == "202" }.count == 300)
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: "\(fixture.root)/done") { usleep(25_000) }
        usleep(1_500_000)
        let metrics = try agent.curl("http://127.0.0.1:\(port)/metrics").body
        let passes =
            metrics.split(separator: "\n").first { $0.hasPrefix("pipeline_agent_reconcile_passes_total ") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? -1
        // The promotion runs on its own thread, so passes go on (each a ref listing) while it runs; without
        // coalescing each of the 300 webhooks would be a pass.
        #expect(passes >= 1 && passes <= 150, "300 webhooks while a promotion runs: \(passes) passes")
        #expect(agent.terminate() == 0)
    }
}
