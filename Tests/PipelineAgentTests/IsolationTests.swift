import Foundation
import TestSupport
import Testing

/// OS users a test creates (root only): one for shop's dev and staging steps and one for prod's. Each test that
/// runs steps as users has its own pair: a step's end kills every process of its user (`kill -9 -1` as that
/// user), which would kill another test's step running as the same user at that moment.
struct TestStepUsers: Sendable {
    let step: String
    let prod: String
    /// The attack against a root agent.
    static let rooted = TestStepUsers(step: "pa-test-step", prod: "pa-test-prod")
    /// The attack against a non-root agent, and its refusals.
    static let nonRoot = TestStepUsers(step: "pa-tnr-step", prod: "pa-tnr-prod")
    /// ConcurrencyTests' one-user-at-a-time test.
    static let concurrency = TestStepUsers(step: "pa-tcc-step", prod: "pa-tcc-prod")
    /// The user a non-root agent runs as.
    static let agent = "pa-test-agent"
    private static let lock = NSLock()

    var config: String {
        """
        execution: {stepUser: \(step), users: {"*/prod": \(prod)}, requireIsolation: true}
        secrets:
          PROD_SECRET: {env: PA_TEST_PROD_SECRET, stages: [shop/prod]}

        """
    }

    /// Creates the users once; the reason when this test process cannot (then the test says it skipped).
    func ensure() -> String? {
        guard geteuid() == 0 else { return "not root: the test cannot create OS users or let the agent switch to them" }
        return Self.lock.withLock {
            for name in [step, prod, Self.agent] where getpwnam(name) == nil {
                _ = try? sh("useradd", "--system", "--create-home", "--shell", "/usr/sbin/nologin", name)
                if getpwnam(name) == nil { return "useradd \(name) failed" }
            }
            return nil
        }
    }
}

/// Attacks 2–5 of the isolation issue, by a committer who controls what dev runs.
@Suite("Isolation: a dev step cannot reach prod, its secrets or the audit trail")
struct IsolationTests {
    /// The dev step an attacker merges: read the agent's environment, plant checkouts, forge the audit
    /// log, leave a detached helper that rewrites every checkout it can find, and a plain leftover.
    static let attack =
        ["        - name: attack", "          run: |"]
        + [
            #"id -un > "$PA_ROOT/dev-user"; env > "$PA_ROOT/dev-env""#,
            #"cat /proc/$PPID/environ > "$PA_ROOT/leak-environ" 2>&1"#,
            #"ls -la "$PA_ROOT/../state" > "$PA_ROOT/leak-state" 2>&1"#,
            #"( echo forged >> "$PA_ROOT/../state/audit.jsonl" ) 2> "$PA_ROOT/leak-audit""#,
            #"ls "$PA_ROOT/../state-work" > "$PA_ROOT/leak-work" 2>&1"#,
            #"for i in 1 2 3 4 5 6 7 8; do mkdir -p "$PA_ROOT/../state/work/$i/app" 2>/dev/null && echo evil > "$PA_ROOT/../state/work/$i/app/version.txt"; done"#,
            #"setsid sh -c 'while true; do for d in "$0"/*/; do echo evil > "$d/app/version.txt"; done 2>/dev/null; date +%s%N >> "$1/helper-alive"; sleep 0.1; done' "$PA_ROOT/../state-work" "$PA_ROOT" </dev/null >/dev/null 2>&1 &"#,
            #"for s in "$PA_ROOT"/../libexec/*; do "$s" --reuid=0 --regid=0 id -u > "$PA_ROOT/leak-setpriv" 2>&1; done"#,
            "sleep 40 &",
            "exit 0",
        ].map { "            " + $0 }

    @Test("as other users: no agent environment, no state, no planted or rewritten checkout, nothing left running")
    func isolatedSteps() throws {
        if let reason = TestStepUsers.rooted.ensure() {
            print("SKIPPED isolation with step users: \(reason)")
            return
        }
        try attackIsolatedSteps(users: .rooted)
    }

    /// What a container runs: the agent as a user of its own, holding only cap_chown, cap_dac_override,
    /// cap_fowner and cap_kill, switching through a setpriv copy with cap_setuid,cap_setgid that only its group
    /// may run. The same attack fails the same way, and the steps cannot run that setpriv to become root.
    @Test("a non-root agent with file capabilities isolates its steps as root does")
    func isolatedStepsWithoutRoot() throws {
        if let reason = TestStepUsers.nonRoot.ensure() {
            print("SKIPPED isolation by a non-root agent: \(reason)")
            return
        }
        try attackIsolatedSteps(users: .nonRoot) { fixture in
            let bin = "\(fixture.root)/bin/pipeline-agent"
            let setpriv = "\(fixture.root)/libexec/setpriv"
            // Before the copies: a chown clears file capabilities.
            try sh("chown", "-R", TestStepUsers.agent, fixture.root)
            try FileManager.default.createDirectory(atPath: "\(fixture.root)/bin", withIntermediateDirectories: true)
            try sh("cp", agentBinary(), bin)
            try sh("setcap", "cap_chown,cap_dac_override,cap_fowner,cap_kill+ep", bin)
            try sh("install", "-D", "-m", "0750", "-o", "root", "-g", TestStepUsers.agent, "/usr/bin/setpriv", setpriv)
            try sh("setcap", "cap_setuid,cap_setgid+ep", setpriv)
            _ = chmod("\(fixture.root)/libexec", 0o755)
            fixture.program = [
                "setpriv", "--reuid=\(TestStepUsers.agent)", "--regid=\(TestStepUsers.agent)", "--init-groups", bin,
            ]
            return (setpriv, TestStepUsers.agent)
        }
    }

    /// A setpriv with cap_setuid that a step may run hands every step root; one without the capabilities cannot
    /// switch. Either way a non-root agent that requires isolation refuses to start, and says what to change.
    @Test("a non-root agent refuses a setpriv that steps could run, or one without the capabilities")
    func nonRootRefusesUnsafeSwitcher() throws {
        if let reason = TestStepUsers.nonRoot.ensure() {
            print("SKIPPED isolation by a non-root agent: \(reason)")
            return
        }
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false), extraConfig: TestStepUsers.nonRoot.config)
        try sh("chown", "-R", TestStepUsers.agent, fixture.root)
        let bin = "\(fixture.root)/pipeline-agent"
        try sh("cp", agentBinary(), bin)
        try sh("setcap", "cap_chown,cap_dac_override,cap_fowner,cap_kill+ep", bin)
        let open = "\(fixture.root)/setpriv-open"
        try sh("install", "-m", "0755", "/usr/bin/setpriv", open)
        try sh("setcap", "cap_setuid,cap_setgid+ep", open)
        fixture.program = ["setpriv", "--reuid=\(TestStepUsers.agent)", "--regid=\(TestStepUsers.agent)", "--init-groups", bin]
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        for (setpriv, expected) in [
            (open, "any step user may run \(open), which holds cap_setuid"),
            ("/usr/bin/setpriv", "/usr/bin/setpriv has no cap_setgid,cap_setuid file capability"),
        ] {
            try config.replacingOccurrences(of: "requireIsolation: true", with: "requireIsolation: true, setpriv: \(setpriv)")
                .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
            let run = try fixture.agent("run", "--once", environment: ["PA_TEST_PROD_SECRET": "x"])
            #expect(run.status != 0 && run.stderr.contains(expected), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state/logs/1"), "a step ran")
        }
    }

    /// Runs the attack; `prepare` may start the agent another way and return its setpriv and user.
    private func attackIsolatedSteps(
        users: TestStepUsers, prepare: (AgentFixture) throws -> (setpriv: String, user: String)? = { _ in nil }
    ) throws {
        let prod = deployStage(
            "prod", from: "staging", strict: false,
            extra: [
                "vars: {}"
            ]
        ).replacingOccurrences(
            of: #"cp app/version.txt "$PA_ROOT/prod/version.txt"'"#,
            with: #"cp app/version.txt "$PA_ROOT/prod/version.txt"; id -un > "$PA_ROOT/prod-user"; env > "$PA_ROOT/prod-env"'"#)
        let stages = [
            deployStage("dev", strict: false, extra: []).replacingOccurrences(
                of: "      steps:\n", with: "      steps:\n" + Self.attack.joined(separator: "\n") + "\n"),
            deployStage("staging", from: "dev", strict: false), prod,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stages, extraConfig: users.config)
        let nonRoot = try prepare(fixture)
        if let nonRoot {
            let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            try config.replacingOccurrences(
                of: "requireIsolation: true", with: "requireIsolation: true, setpriv: \(nonRoot.setpriv)"
            )
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        }
        let out = "\(fixture.root)/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        _ = chmod(fixture.root, 0o755)
        _ = chmod(out, 0o1777)
        let secret = "prod-\(UUID().uuidString)"
        let env = ["PA_ROOT": out, "PA_TEST_PROD_SECRET": secret]

        let started = Date()
        let run = try fixture.agent("run", "--once", environment: env)
        let elapsed = Date().timeIntervalSince(started)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(elapsed < 30, "a leftover `sleep 40 &` must not hold the agent: \(elapsed) s")
        #expect(run.stderr.contains("isolation: steps run as \(users.step)"), "\(run.stderr)")

        func read(_ name: String) -> String { (try? String(contentsOfFile: "\(out)/\(name)", encoding: .utf8)) ?? "" }
        #expect(read("dev-user") == "\(users.step)\n")
        #expect(read("prod-user") == "\(users.prod)\n")
        #expect(
            !read("leak-environ").contains(secret) && read("leak-environ").contains("Permission denied"),
            "\(read("leak-environ"))")
        #expect(!read("dev-env").contains(secret), "dev must not see prod's secret")
        #expect(read("prod-env").contains("PROD_SECRET=\(secret)"), "prod sees its own secret")
        #expect(read("leak-state").contains("Permission denied"), "\(read("leak-state"))")
        #expect(read("leak-audit").contains("Permission denied"), "\(read("leak-audit"))")
        #expect(read("leak-work").contains("Permission denied"), "\(read("leak-work"))")
        if nonRoot != nil {
            #expect(read("leak-setpriv").contains("Permission denied"), "\(read("leak-setpriv"))")
            #expect(try sh("stat", "-c", "%U", "\(fixture.root)/state/audit.jsonl") == TestStepUsers.agent)
        }
        for stage in ["staging", "prod"] {
            #expect(read("\(stage)/version.txt") == "v1\n", "\(stage) deployed what was approved")
        }

        // The detached helper died with its step: its heartbeat file stops growing, and no process of the user is left.
        let before = read("helper-alive").count
        Thread.sleep(forTimeInterval: 1)
        #expect(read("helper-alive").count == before, "the setsid helper outlived its step")
        let left = try runProcess(["pgrep", "-u", "\(users.step),\(users.prod)"])
        #expect(left.stdout.isEmpty, "processes left behind: \(left.stdout)")
        #expect(try fixture.agent("audit", "verify").status == 0)
        let audit = try String(contentsOfFile: "\(fixture.root)/state/audit.jsonl", encoding: .utf8)
        #expect(!audit.contains("forged"))
        #expect(audit.contains(#""runAs":"\#(users.prod)""#) && audit.contains(#""runAs":"\#(users.step)""#))

        // What is left on disk is the agent's alone, and no checkout outlives its promotion.
        #expect(try sh("stat", "-c", "%a", "\(fixture.root)/state") == "700")
        #expect(try sh("stat", "-c", "%a", "\(fixture.root)/state/audit.jsonl") == "600")
        #expect(try sh("stat", "-c", "%a", "\(fixture.root)/state-work") == "711")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(fixture.root)/state-work").isEmpty)
        let status = try fixture.agent("status").stdout
        #expect(status.contains("Isolation: steps run as \(users.step)"), "\(status)")
    }

    @Test("steps as the agent's user: a leftover and a setsid escapee neither hold the agent nor survive the step")
    func leftoversDie() throws {
        let marker = Int.random(in: 100_000...999_999)
        let stages = deployStage("dev", strict: false).replacingOccurrences(
            of: "      steps:\n",
            with: """
                      steps:
                        - name: leave
                          timeout: 5s
                          run: |
                            sleep \(marker) &
                            setsid sleep \(marker + 1) </dev/null >/dev/null 2>&1 &
                            setsid sh -c 'exec sleep \(marker + 2)' &
                            echo started

                """)
        let fixture = try AgentFixture(stages: stages)
        // What a crash (or an older version's `<state>/work/<id>`) left behind is removed at start.
        for stale in ["state/work/7/app", "state-work/0123abcd"] {
            try FileManager.default.createDirectory(atPath: "\(fixture.root)/\(stale)", withIntermediateDirectories: true)
        }
        let started = Date()
        let run = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        let elapsed = Date().timeIntervalSince(started)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(elapsed < 20, "leftovers held the agent for \(elapsed) s")
        #expect(run.stderr.contains("NOT ISOLATED"), "run says plainly that steps run as the agent's user: \(run.stderr)")
        let left = try runProcess(["pgrep", "-f", "sleep \(marker)"])
        #expect(left.stdout.isEmpty, "left running: \(left.stdout)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state/work"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(fixture.root)/state-work").isEmpty)
    }

    @Test("a step log never holds a secret in clear, even when the agent dies mid-step; encodings at every offset")
    func streamingRedaction() throws {
        let secret = "s3cr/t+\(UUID().uuidString.prefix(8))&Ü"
        let stages = deployStage("dev", strict: false).replacingOccurrences(
            of: "      steps:\n",
            with: #"""
                      steps:
                        - name: leak
                          run: |
                            echo "plain $S"
                            printf '%s' "$S" | base64 -w0; echo
                            printf 'x%s' "$S" | base64 -w0; echo
                            printf 'xy%s' "$S" | base64 -w0; echo
                            printf 'x%s' "$S" | base64 -w0 | tr '+/' '-_'; echo
                            python3 -c 'import os,re,urllib.parse; q=urllib.parse.quote(os.environ["S"], safe=""); print(q); print(re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), q))'
                            kill -9 $PPID; sleep 5

                """#)
        let fixture = try AgentFixture(stages: stages, extraConfig: "secrets:\n  S: {env: PA_TEST_S, stages: [shop/dev]}\n")
        _ = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root, "PA_TEST_S": secret])
        let logs = try runProcess(["sh", "-c", #"cat "$0"/state/logs/*/*.log"#, fixture.root]).stdout
        #expect(logs.contains("plain [REDACTED]"), "the log was written: \(logs)")
        let bytes = Array(secret.utf8)
        var forms = [secret, Data(bytes).base64EncodedString()]
        forms += [String(Data([0x78] + bytes).base64EncodedString().dropFirst(2).dropLast(4))]
        forms += [String(Data([0x78, 0x79] + bytes).base64EncodedString().dropFirst(3).dropLast(4))]
        forms += [secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret]
        for form in forms { #expect(!logs.contains(form), "\(form) in \(logs)") }
        #expect(!logs.lowercased().contains(forms[4].lowercased()), "lower-case percent-encoding: \(logs)")
        for line in logs.split(separator: "\n") where line.hasPrefix("eH") || line.hasPrefix("eH") {
            #expect(line.contains("[REDACTED]"), "\(line)")
        }
        let modes = try sh("sh", "-c", #"stat -c %a "$0"/state/logs/*/*.log | sort -u"#, fixture.root)
        #expect(modes == "600", "\(modes)")
    }

    @Test("the service stops within its grace on SIGTERM although a step left a setsid daemon and a plain leftover")
    func serviceStopsWithLeftovers() throws {
        let marker = Int.random(in: 100_000...999_999)
        let port = try freeLoopbackPort()
        let stage = [
            "    - name: dev", "      steps:",
            "        - name: leave",
            "          run: |",
            "            setsid sleep \(marker) </dev/null >/dev/null 2>&1 &",
            "            sleep \(marker + 1) &",
            #"            touch "$PA_ROOT/started"; sleep 60"#,
        ].joined(separator: "\n")
        let fixture = try DaemonTests.fixture(port: port, stage: stage)
        let agent = try RunningAgent(fixture, port: port, environment: ["PA_ROOT": fixture.root, "PA_TEST_HOOK": "x"])
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: "\(fixture.root)/started") { usleep(50_000) }
        let stopping = Date()
        #expect(agent.terminate() == 0)
        let took = Date().timeIntervalSince(stopping)
        #expect(took < 10, "shutdownGrace is 1s; leftovers must not hold the agent (took \(took)s)")
        let left = try runProcess(["pgrep", "-f", "sleep \(marker)"])
        #expect(left.stdout.isEmpty, "left running: \(left.stdout)")
    }
}
