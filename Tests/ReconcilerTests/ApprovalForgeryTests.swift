import Foundation
import Logging
import SpecModel
import TestSupport
import Testing

@testable import Reconciler

/// Keys made with ssh-keygen; the agent trusts alice, bob, carol (prod approvers) and dave (not one).
final class ApprovalWorld: @unchecked Sendable {
    let git: GitFixture
    let remote: String
    let keys: String
    let configPath: String
    var candidate = ""

    static let spec = """
        apiVersion: pipeline-agent/v1
        kind: Pipeline
        metadata: {name: shop}
        spec:
          source: {branch: main, paths: ["app/**"]}
          stages:
            - {name: dev, steps: [{name: s, run: "true"}]}
            - {name: staging, from: dev, steps: [{name: s, run: "true"}]}
            - name: prod
              from: staging
              promotion: manual
              approvals: {required: 2, approvers: [alice@acme.test, bob@acme.test, carol@acme.test]}
              steps: [{name: s, run: "true"}]

        """

    /// With `floor`, the agent config also protects prod (same approvers, 2 approvals, manual).
    init(floor: Bool = false) throws {
        git = try GitFixture()
        keys = git.scratch.sub("keys")
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        var signers = ""
        for name in ["alice", "bob", "carol", "dave", "mallory"] {
            try sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", "\(keys)/\(name)")
            let parts = try String(contentsOfFile: "\(keys)/\(name).pub", encoding: .utf8).split(separator: " ")
            if name != "mallory" { signers += "\(name)@acme.test namespaces=\"pipeline-agent\" \(parts[0]) \(parts[1])\n" }
        }
        try git.scratch.write("allowed_signers", signers)
        try git.commit("pipeline", files: ["pipelines/shop.yaml": Self.spec])
        candidate = try git.commit("carol's change", files: ["app/x.txt": "1"], author: "carol@acme.test")
        remote = try git.bareClone()
        configPath = git.scratch.sub("agent.yaml")
        try git.scratch.write(
            "agent.yaml",
            "source: {url: ./team.git}\nstate: {path: ./state}\ntrust: {allowedSigners: ./allowed_signers}\n"
                + (floor
                    ? "protect:\n  - {pipeline: \"*\", stage: prod, promotion: manual, minApprovals: 2, "
                        + "approvers: [alice@acme.test, bob@acme.test, carol@acme.test]}\n" : ""))
    }

    func approval(
        _ approver: String, candidate: String? = nil, stage: String = "prod", pipeline: String = "shop",
        extra: String = ""
    ) -> String {
        "apiVersion: pipeline-agent/v1\nkind: Approval\npipeline: \(pipeline)\nstage: \(stage)\n"
            + "candidate: \"\(candidate ?? self.candidate)\"\napprover: \(approver)\n"
            + "stageDigest: \(Self.digest(of: stage))\n\(extra)"
    }

    /// The `stageDigest` of a stage of `spec`, as `approve` writes it.
    static func digest(of stage: String, in text: String = spec) -> String {
        let file = SpecFile(path: "pipelines/shop.yaml", bytes: Data(text.utf8))
        guard let found = file.pipelines.first?.pipeline.stage(named: stage) else {
            return "sha256:" + String(repeating: "0", count: 64)
        }
        return ApprovalDigest.of(found)
    }

    /// Writes `approvals/<name>` and signs it with `key` (nil: unsigned) in `namespace`.
    func add(_ name: String, _ text: String, key: String?, namespace: String = "pipeline-agent") throws {
        try git.scratch.write("work/approvals/\(name)", text)
        guard let key else { return }
        try sh(
            "ssh-keygen", "-q", "-Y", "sign", "-f", "\(keys)/\(key)", "-n", namespace, git.scratch.sub("work/approvals/\(name)"))
    }

    func judgements() throws -> [String: ApprovalJudgement] {
        try git.git("add", "-A")
        try git.git("commit", "-q", "-m", "approvals")
        try git.git("push", "-q", remote, "main")
        let config = try AgentConfigLoader.load(path: configPath).get()
        let session = try AgentSession(config: config, logger: Logger(label: "test"))
        try session.sync()
        let snapshot = try session.gather()
        let judged = snapshot.approvals.judgements(snapshot.input.pipelines, stages: [:])
        return Dictionary(judged.map { ($0.file.replacingOccurrences(of: "approvals/", with: ""), $0) }, uniquingKeysWith: { $1 })
    }
}

@Suite("Approvals that cannot be forged")
struct ApprovalForgeryTests {
    @Test(
        "the forgery matrix: every file rejected for its own reason; two distinct approvers count (without and with a floor)",
        arguments: [false, true])
    func forgeryMatrix(withFloor: Bool) throws {
        let world = try ApprovalWorld(floor: withFloor)
        try world.add("a1-alice.yaml", world.approval("alice@acme.test"), key: "alice")
        try world.add("a2-alice-again.yaml", world.approval("alice@acme.test", extra: "comment: twice\n"), key: "alice")
        try world.add("b-bob.yaml", world.approval("bob@acme.test"), key: "bob")
        try world.add("c-self.yaml", world.approval("carol@acme.test"), key: "carol")
        try world.add("unsigned.yaml", world.approval("alice@acme.test", extra: "comment: no sig\n"), key: nil)
        try world.add("non-approver.yaml", world.approval("dave@acme.test"), key: "dave")
        try world.add("untrusted.yaml", world.approval("mallory@acme.test"), key: "mallory")
        try world.add("impersonation.yaml", world.approval("bob@acme.test", extra: "comment: by alice\n"), key: "alice")
        try world.add("edited.yaml", world.approval("alice@acme.test", extra: "comment: ok\n"), key: "alice")
        try world.git.scratch.write("work/approvals/edited.yaml", world.approval("alice@acme.test", extra: "comment: OK\n"))
        try world.add("copied.yaml", world.approval("alice@acme.test", extra: "comment: copied\n"), key: nil)
        try sh(
            "cp", world.git.scratch.sub("work/approvals/a1-alice.yaml.sig"),
            world.git.scratch.sub("work/approvals/copied.yaml.sig"))
        try world.add(
            "namespace.yaml", world.approval("alice@acme.test", extra: "comment: git ns\n"), key: "alice", namespace: "git")
        try world.add("short.yaml", world.approval("alice@acme.test", candidate: String(world.candidate.prefix(7))), key: "alice")
        try world.add(
            "other-candidate.yaml", world.approval("alice@acme.test", candidate: String(repeating: "ab", count: 20)), key: "alice"
        )
        try world.add("other-stage.yaml", world.approval("alice@acme.test", stage: "staging"), key: "alice")
        try world.add("unknown-stage.yaml", world.approval("alice@acme.test", stage: "qa"), key: "alice")
        try world.add("other-pipeline.yaml", world.approval("alice@acme.test", pipeline: "other"), key: "alice")
        try world.add("expired.yaml", world.approval("bob@acme.test", extra: "expires: 2020-01-01T00:00:00Z\n"), key: "bob")
        try world.add(
            "oversized.yaml", world.approval("alice@acme.test", extra: "comment: \"\(String(repeating: "x", count: 70_000))\"\n"),
            key: "alice")
        try world.add("malformed.yaml", "apiVersion: pipeline-agent/v1\nkind: Approval\npipeline: [shop\n", key: "alice")
        try world.add("pgp.yaml", world.approval("alice@acme.test", extra: "comment: pgp\n"), key: nil)
        try world.git.scratch.write(
            "work/approvals/pgp.yaml.sig", "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n")
        try world.add("zz-target.yaml", world.approval("bob@acme.test", extra: "comment: link target\n"), key: "bob")
        try FileManager.default.createSymbolicLink(
            atPath: world.git.scratch.sub("work/approvals/symlink.yaml"), withDestinationPath: "zz-target.yaml")
        try world.add("symlink-sig.yaml", world.approval("bob@acme.test", extra: "comment: sig link\n"), key: nil)
        try FileManager.default.createSymbolicLink(
            atPath: world.git.scratch.sub("work/approvals/symlink-sig.yaml.sig"), withDestinationPath: "zz-target.yaml.sig")
        // A trust file inside the watched repository vouching for mallory is ignored.
        let withoutDigest =
            world.approval("alice@acme.test", extra: "comment: old style\n")
            .split(separator: "\n").filter { !$0.hasPrefix("stageDigest:") }.joined(separator: "\n") + "\n"
        try world.add("no-digest.yaml", withoutDigest, key: "alice")
        let staging = ApprovalWorld.digest(of: "staging")
        try world.add(
            "other-digest.yaml",
            world.approval("bob@acme.test", extra: "comment: x\n").replacingOccurrences(
                of: ApprovalWorld.digest(of: "prod"), with: staging), key: "bob")
        let mallory = try String(contentsOfFile: "\(world.keys)/mallory.pub", encoding: .utf8).split(separator: " ")
        try world.git.scratch.write("work/allowed_signers", "mallory@acme.test \(mallory[0]) \(mallory[1])\n")
        try world.git.scratch.write("work/approvals/allowed_signers", "mallory@acme.test \(mallory[0]) \(mallory[1])\n")

        let judged = try world.judgements()
        let expected: [String: String] = [
            "a2-alice-again.yaml": "is already counted through approvals/a1-alice.yaml",
            "c-self.yaml": "carol@acme.test authored a commit in the promoted range; self-approval is not allowed",
            "unsigned.yaml": "unsigned: no approvals/unsigned.yaml.sig",
            "non-approver.yaml": "dave@acme.test is not an approver of stage prod",
            "untrusted.yaml": "signed by a key that is not in the agent's allowed_signers",
            "impersonation.yaml": "signed by alice@acme.test's key, not by bob@acme.test named in the file",
            "edited.yaml": "signature does not match the file's bytes",
            "copied.yaml": "signature does not match the file's bytes",
            "namespace.yaml": "signature is not for namespace pipeline-agent",
            "short.yaml": "full 40-character lowercase commit id",
            "other-candidate.yaml": "which is not a candidate of shop",
            "other-stage.yaml": "stage staging does not take approvals",
            "unknown-stage.yaml": "names unknown stage 'qa'",
            "other-pipeline.yaml": "names unknown pipeline 'other'",
            "expired.yaml": "expired at 2020-01-01T00:00:00.000Z",
            "oversized.yaml": "larger than 65536 bytes",
            "malformed.yaml": "not a valid approval document: 4:1: YAML syntax",
            "zz-target.yaml": "bob@acme.test is already counted through approvals/b-bob.yaml",
            "pgp.yaml": "approvals/pgp.yaml.sig is not an SSH signature",
            "symlink.yaml": "the approval file is a symlink, not a regular file",
            "symlink-sig.yaml": "the signature is a symlink, not a regular file",
            "no-digest.yaml": "does not say which stage spec alice@acme.test approved (no stageDigest)",
            "other-digest.yaml": "stage spec changed since approval by bob@acme.test",
        ]
        #expect(expected.count >= 20)
        for (file, reason) in expected {
            let verdict = try #require(judged[file], "no verdict for \(file)")
            #expect(!verdict.accepted, "\(file) must be rejected")
            #expect(verdict.reason.contains(reason), "\(file): \(verdict.reason)")
        }
        #expect(judged["a1-alice.yaml"]?.accepted == true)
        #expect(judged["b-bob.yaml"]?.accepted == true)
        #expect(judged.values.filter(\.accepted).count == 2)
    }
}
