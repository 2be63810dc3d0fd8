import Foundation
import TestSupport
import Testing

/// Attack 7 of the isolation issue: a committer loosens a protected stage through what the floor
/// did not bound (self-approval, the promoted range, a renamed stage).
@Suite("The floor bounds everything a spec can loosen")
struct FloorLeakTests {
    static func spec(_ fixture: AgentFixture) throws -> String {
        try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
    }

    static func prodStatus(_ fixture: AgentFixture) throws -> [String: Any] {
        try #require(try fixture.status()["prod"])
    }

    @Test("allowSelfApproval: true in the spec does not let an author approve a protected stage")
    func selfApproval() throws {
        let (fixture, keys) = try ApprovalEndToEndTests.world(extraConfig: prodFloor)
        let env = ["PA_ROOT": fixture.root]
        let loosened = try Self.spec(fixture).replacingOccurrences(
            of: "carol@acme.test]}", with: "carol@acme.test], allowSelfApproval: true}")
        try fixture.push("let authors approve", files: ["pipelines/shop.yaml": loosened])
        let candidate = try fixture.git.commit("alice's change", files: ["app/version.txt": "v2\n"], author: "alice@acme.test")
        try fixture.git.git("push", "-q", fixture.remote, "main")
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        _ = try TrustBoundaryTests.approve(fixture, keys, candidate, ["alice", "bob"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let prod = try Self.prodStatus(fixture)
        #expect(prod["current"] == nil || prod["current"] is NSNull, "alice approved her own change: \(prod)")
        #expect((prod["reason"] as? String ?? "").contains("alice@acme.test authored a commit in the promoted range"))
        let floor = (prod["floor"] as? [[String: Any]] ?? []).map { "\($0["field"] ?? "")=\($0["effective"] ?? "")" }
        #expect(floor.contains("approvals.allowSelfApproval=false"), "\(floor)")
    }

    @Test("narrowing source.paths does not shrink the promoted range: an approver's earlier commit still counts")
    func narrowedPaths() throws {
        let (fixture, keys) = try ApprovalEndToEndTests.world(extraConfig: prodFloor)
        let env = ["PA_ROOT": fixture.root]
        let first = try fixture.git.git("rev-parse", "HEAD")
        _ = try TrustBoundaryTests.approve(fixture, keys, first, ["alice", "bob"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try Self.prodStatus(fixture)["current"] as? String == first)

        try fixture.git.commit("alice's change", files: ["app/version.txt": "alice\n"], author: "alice@acme.test")
        let narrowed = try Self.spec(fixture).replacingOccurrences(of: #"["app/**"]"#, with: #"["app/other/**"]"#)
        #expect(narrowed != (try Self.spec(fixture)))
        try fixture.git.commit("narrow the paths", files: ["pipelines/shop.yaml": narrowed])
        let candidate = try fixture.git.commit("bob's change", files: ["app/other/x.txt": "x\n"], author: "bob@acme.test")
        try fixture.git.git("push", "-q", fixture.remote, "main")
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        _ = try TrustBoundaryTests.approve(fixture, keys, candidate, ["alice", "carol"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let prod = try Self.prodStatus(fixture)
        #expect(prod["current"] as? String == first, "alice's own commit is in what prod would deploy: \(prod)")
        #expect((prod["reason"] as? String ?? "").contains("alice@acme.test authored a commit in the promoted range"), "\(prod)")
    }

    @Test("renaming a protected stage holds the pipeline on its last valid spec; nothing deploys unprotected")
    func renamedStage() throws {
        let (fixture, _) = try ApprovalEndToEndTests.world(extraConfig: prodFloor)
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let renamed = try Self.spec(fixture)
            .replacingOccurrences(of: "- name: prod", with: "- name: production")
            .replacingOccurrences(of: "promotion: manual", with: "promotion: auto")
            .replacingOccurrences(of: "$PA_ROOT/prod", with: "$PA_ROOT/production")
        try fixture.push("rename prod", files: ["pipelines/shop.yaml": renamed])
        let run = try fixture.agent("run", "--once", environment: env)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("protect[0] covered stage 'prod' of shop and covers no stage of this spec"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/production/version.txt"))
        let status = try fixture.status()
        #expect(status["production"] == nil && status["prod"]?["phase"] as? String == "Invalid", "\(status)")
    }
}
