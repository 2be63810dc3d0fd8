import Foundation
import TestSupport
import Testing

/// The two ways docs/audit.md gives an auditor to check a log without the agent, run as written.
@Suite("Verifying the audit log without the agent")
struct AuditRecipeTests {
    /// The `sh` block of "Verifying without our binary", as the document has it.
    static func recipe() throws -> String {
        let document = try String(contentsOfFile: "\(repositoryRoot)/docs/audit.md", encoding: .utf8)
        let section = try #require(document.range(of: "## Verifying without our binary"))
        let rest = document[section.upperBound...]
        let open = try #require(rest.range(of: "```sh\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        return String(rest[open.upperBound..<close.lowerBound])
    }

    /// A state directory with a few dozen records written by the agent.
    static func state() throws -> (AgentFixture, String) {
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false))
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        return (fixture, "\(fixture.root)/state")
    }

    @Test("scripts/verify-audit.py: intact, then a cut tail and an edited record are named by seq")
    func script() throws {
        let (fixture, state) = try Self.state()
        defer { withExtendedLifetime(fixture) {} }
        let script = "\(repositoryRoot)/scripts/verify-audit.py"
        let intact = try runProcess(["python3", script, state])
        #expect(intact.status == 0 && intact.stdout.hasPrefix("intact: "), "\(intact.stdout)\(intact.stderr)")
        let log = "\(state)/audit.jsonl"
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        try (lines.dropLast().joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let cut = try runProcess(["python3", script, state])
        #expect(cut.status == 1 && cut.stdout.contains("missing tail"), "\(cut.stdout)")
        var edited = lines
        edited[2] = edited[2].replacingOccurrences(of: "\"actor\":\"agent\"", with: "\"actor\":\"mallory\"")
        try (edited.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let tampered = try runProcess(["python3", script, state])
        #expect(tampered.status == 1 && tampered.stdout.contains("seq 3: hash mismatch"), "\(tampered.stdout)")
    }

    @Test("the jq recipe of docs/audit.md, as written: intact, and a cut log fails on the anchor")
    func jqRecipe() throws {
        let (fixture, state) = try Self.state()
        defer { withExtendedLifetime(fixture) {} }
        let recipe = try Self.recipe()
        let intact = try runProcess(["bash", "-c", recipe], in: state)
        #expect(intact.status == 0 && intact.stdout.contains(" records, head "), "\(intact.stdout)\(intact.stderr)")
        let log = "\(state)/audit.jsonl"
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        try (lines.dropLast().joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let cut = try runProcess(["bash", "-c", recipe], in: state)
        #expect(cut.status == 1 && cut.stdout.contains("the anchor says"), "\(cut.stdout)\(cut.stderr)")
    }
}

@Suite("Shipping it")
struct PackagingTests {
    @Test("the systemd unit passes systemd-analyze verify, keeps only the capabilities the user switch needs")
    func systemdUnit() throws {
        let unit = try String(contentsOfFile: "\(repositoryRoot)/packaging/pipeline-agent.service", encoding: .utf8)
        #expect(unit.contains("ProtectSystem=strict") && unit.contains("NoNewPrivileges=yes"))
        #expect(unit.contains("CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_KILL"))
        #expect(unit.contains("RestartPreventExitStatus=2"), "a refused start is not restarted in a loop")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            print("SKIPPED: systemd-analyze verify (no /usr/bin/systemd-analyze on this machine; Debian package systemd)")
            return
        }
        let scratch = try Scratch()
        try scratch.write(
            "pipeline-agent.service", unit.replacingOccurrences(of: "/usr/local/bin/pipeline-agent", with: agentBinary()))
        let verify = try runProcess(["systemd-analyze", "verify", scratch.sub("pipeline-agent.service")])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    /// The image cannot be built here (no Docker daemon, no registry); what it sets up — a non-root agent with file
    /// capabilities and a setpriv copy only its group may run — is what `isolatedStepsWithoutRoot` runs for real.
    @Test("the Dockerfile passes hadolint, runs the agent as a non-root user and sets up the switch of decision 0020")
    func dockerfile() throws {
        let path = "\(repositoryRoot)/Dockerfile"
        let dockerfile = try String(contentsOfFile: path, encoding: .utf8)
        let lint = try runProcess(["\(repositoryRoot)/.venv/bin/hadolint", "--config", "\(repositoryRoot)/.hadolint.yaml", path])
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        let user = dockerfile.split(separator: "\n").last { $0.hasPrefix("USER ") }
        #expect(user == "USER 10001:10001", "the last USER is the agent's own, not root: \(String(describing: user))")
        for line in [
            "setcap cap_chown,cap_dac_override,cap_fowner,cap_kill+ep /usr/local/bin/pipeline-agent",
            "install -D -m 0750 -o root -g pipeline-agent /usr/bin/setpriv /usr/local/libexec/pipeline-agent/setpriv",
            "setcap cap_setuid,cap_setgid+ep /usr/local/libexec/pipeline-agent/setpriv",
            "--static-swift-stdlib",
        ] {
            #expect(dockerfile.contains(line), "missing: \(line)")
        }
        let example = try String(contentsOfFile: "\(repositoryRoot)/examples/container-agent.yaml", encoding: .utf8)
        #expect(example.contains("setpriv: /usr/local/libexec/pipeline-agent/setpriv"))
        #expect(example.contains("requireIsolation: true"))
    }
}
