import Foundation
import TestSupport
import Testing

/// The floor every test here puts in the agent config.
let prodFloor = """
    protect:
      - {pipeline: "*", stage: prod, promotion: manual, minApprovals: 2, approvers: [alice@acme.test, bob@acme.test, carol@acme.test]}

    """

@Suite("The trust boundary: what a merged commit cannot make the agent do")
struct TrustBoundaryTests {
    static func withoutApprovals(_ spec: String) -> String {
        spec.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("approvals: {required") }
            .joined(separator: "\n")
    }

    /// A merged commit loosening prod: its name, and pipelines/shop.yaml after it.
    static func loosen(_ index: Int, _ spec: String) -> (name: String, spec: String) {
        switch index {
        case 0:
            return (
                "prod set to auto",
                withoutApprovals(spec.replacingOccurrences(of: "promotion: manual", with: "promotion: auto"))
            )
        case 1:
            return (
                "required: 0",
                spec.replacingOccurrences(of: "promotion: manual", with: "promotion: auto")
                    .replacingOccurrences(of: "required: 2", with: "required: 0")
            )
        default:
            return ("approvals block removed", withoutApprovals(spec))
        }
    }

    @Test("a merged commit that loosens prod does not promote prod under the floor", arguments: [0, 1, 2])
    func loosening(case index: Int) throws {
        let (fixture, _) = try ApprovalEndToEndTests.world(extraConfig: prodFloor)
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let spec = try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
        let (name, loosened) = Self.loosen(index, spec)
        #expect(loosened != spec, "the edit for \(name) changed nothing")
        try fixture.push("loosen prod: \(name)", files: ["pipelines/shop.yaml": loosened])
        let candidate = try fixture.push("a change for prod", files: ["app/version.txt": "v2\n"])

        for _ in 0..<2 { #expect(try fixture.agent("run", "--once", environment: env).status == 0) }
        let prod = try #require(try fixture.status()["prod"])
        #expect(try fixture.status()["staging"]?["current"] as? String == candidate, "staging moves on")
        #expect(prod["current"] == nil || prod["current"] is NSNull, "\(name): prod must not be promoted")
        #expect(prod["phase"] as? String == "WaitingApproval", "\(name): \(prod)")
        #expect((prod["approvals"] as? [String: Any])?["need"] as? Int == 2)
        let floor = (prod["floor"] as? [[String: Any]] ?? []).map { "\($0["field"] ?? "")=\($0["effective"] ?? "")" }
        #expect(floor.contains("approvals.required=2"), "\(name): \(floor)")
        let plan = try fixture.agent("plan", environment: env).stdout
        #expect(plan.contains("floor: protect[0] tightens approvals.required"), "\(plan)")
        #expect(try fixture.auditTypes().filter { $0 == "policy.tightened" }.count == 1, "audited once")

        // The same commits against an agent without the floor: only the floor stood in the way.
        guard index < 2 else { return }
        try fixture.git.scratch.write("open.yaml", "source: {url: ./team.git, branch: main}\nstate: {path: ./state-open}\n")
        fixture.configPath = fixture.git.scratch.sub("open.yaml")
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try fixture.status()["prod"]?["current"] as? String == candidate, "\(name) without a floor promotes prod")
    }

    @Test("approvals bound to prod's spec: a change of steps needs fresh approvals, which then promote")
    func approvalsBoundToSpec() throws {
        let (fixture, keys) = try ApprovalEndToEndTests.world(extraConfig: prodFloor)
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        let approvalCommit = try Self.approve(fixture, keys, candidate, ["alice", "bob"])
        #expect(try fixture.agent("plan").stdout.contains("will promote \(candidate.prefix(12))"))

        let spec = try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
        let changed = spec.replacingOccurrences(
            of: #"cp app/version.txt "$PA_ROOT/prod/version.txt"'"#,
            with: #"cp app/version.txt "$PA_ROOT/prod/version.txt"; env'"#)
        #expect(changed != spec)
        try fixture.push("prod: print the environment", files: ["pipelines/shop.yaml": changed])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        var prod = try #require(try fixture.status()["prod"])
        #expect(prod["current"] == nil || prod["current"] is NSNull, "prod must not run the changed steps unapproved")
        let reason = prod["reason"] as? String ?? ""
        #expect(
            reason.contains(
                "stage spec changed since approval by alice@acme.test (commit \(approvalCommit["alice", default: "?"].prefix(12)))"
            ),
            "\(reason)")
        #expect(reason.contains("steps changed; a fresh approval is needed"))
        let stale = (prod["approvals"] as? [String: Any])?["stale"] as? [[String: Any]] ?? []
        #expect(stale.count == 2)
        let plan = try fixture.agent("plan").stdout
        #expect(plan.contains(#"-   run: mkdir -p "$PA_ROOT/prod" && cp app/version.txt "$PA_ROOT/prod/version.txt""#), "\(plan)")
        #expect(plan.contains(#"+   run: mkdir -p "$PA_ROOT/prod" && cp app/version.txt "$PA_ROOT/prod/version.txt"; env"#))

        _ = try Self.approve(fixture, keys, candidate, ["alice", "carol"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        prod = try #require(try fixture.status()["prod"])
        #expect(prod["current"] as? String == candidate, "\(prod)")
        let log = try fixture.agent("audit", "log", "--stage", "prod", "--output", "json").stdout
        let started = try #require(log.split(separator: "\n").first { $0.contains(#""type":"promotion.started""#) })
        #expect(started.contains("alice@acme.test") && started.contains("carol@acme.test") && !started.contains("bob@acme.test"))
        #expect(log.contains("stage spec changed since approval by bob@acme.test"), "bob's stale approval is audited")
    }

    /// Each approver signs with `approve --commit`; returns the commit that added each file.
    static func approve(
        _ fixture: AgentFixture, _ keys: String, _ candidate: String, _ names: [String]
    ) throws -> [String: String] {
        var commits: [String: String] = [:]
        for name in names {
            let result = try runProcess([
                agentBinary(), "approve", "--repo", fixture.git.path, "--pipeline", "shop", "--stage", "prod",
                "--candidate", candidate, "--approver", "\(name)@acme.test", "--key", "\(keys)/\(name)", "--commit",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            commits[name] = try fixture.git.git("rev-parse", "HEAD")
        }
        try fixture.git.git("push", "-q", fixture.remote, "main")
        return commits
    }
}
