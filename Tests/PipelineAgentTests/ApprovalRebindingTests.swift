import Foundation
import TestSupport
import Testing

/// Attack 1 of the isolation issue: a committer without an approver key re-binds stale approvals
/// through Git history (the binding used to be judged on the last commit that touched the file).
@Suite("Approvals name what they approve: Git history cannot re-bind them")
struct ApprovalRebindingTests {
    @Test("after prod's steps change, renaming or deleting and re-adding the signed files does not make them count")
    func renameAndReAdd() throws {
        let (fixture, keys) = try ApprovalEndToEndTests.world(extraConfig: prodFloor)
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        _ = try TrustBoundaryTests.approve(fixture, keys, candidate, ["alice", "bob"])

        let spec = try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
        let changed = spec.replacingOccurrences(
            of: #"cp app/version.txt "$PA_ROOT/prod/version.txt"'"#,
            with: #"cp app/version.txt "$PA_ROOT/prod/version.txt"; echo pwned > "$PA_ROOT/pwned"'"#)
        #expect(changed != spec)
        try fixture.push("prod: one more line", files: ["pipelines/shop.yaml": changed])

        // The attacker moves every signed file (bytes and .sig unchanged) in one commit.
        let files = try fixture.git.git("ls-files", "approvals").split(separator: "\n").map(String.init)
        #expect(files.count == 4, "\(files)")
        for file in files {
            let moved = file.replacingOccurrences(of: "approvals/shop/prod/", with: "approvals/shop/prod/moved-")
            try fixture.git.git("mv", file, moved)
        }
        try fixture.git.git("commit", "-q", "-m", "tidy approvals")
        try fixture.git.git("push", "-q", fixture.remote, "main")
        for _ in 0..<2 { #expect(try fixture.agent("run", "--once", environment: env).status == 0) }
        var prod = try #require(try fixture.status()["prod"])
        #expect(prod["current"] == nil || prod["current"] is NSNull, "renamed approvals must not promote prod: \(prod)")
        #expect((prod["reason"] as? String ?? "").contains("stage spec changed since approval by alice@acme.test"), "\(prod)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/pwned"))

        // Delete in one commit, re-add the same bytes in the next.
        let saved = try Dictionary(
            uniqueKeysWithValues: fixture.git.git("ls-files", "approvals").split(separator: "\n").map {
                (String($0), try Data(contentsOf: URL(fileURLWithPath: "\(fixture.git.path)/\($0)")))
            })
        try fixture.git.git("rm", "-q", "-r", "approvals")
        try fixture.git.git("commit", "-q", "-m", "drop approvals")
        for (file, bytes) in saved {
            let path = "\(fixture.git.path)/\(file)"
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        try fixture.git.git("add", "-A")
        try fixture.git.git("commit", "-q", "-m", "restore approvals")
        try fixture.git.git("push", "-q", fixture.remote, "main")
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        prod = try #require(try fixture.status()["prod"])
        #expect(prod["current"] == nil || prod["current"] is NSNull, "re-added approvals must not promote prod: \(prod)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/pwned"))

        // Fresh approvals of the new spec do promote it.
        _ = try TrustBoundaryTests.approve(fixture, keys, candidate, ["alice", "carol"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try fixture.status()["prod"]?["current"] as? String == candidate)
        #expect(FileManager.default.fileExists(atPath: "\(fixture.root)/pwned"), "the approved steps ran")
    }

    @Test("approval-digest matches the documented recipe (PyYAML + jq + sha256sum) and the file approve writes")
    func digestRecipe() throws {
        let (fixture, keys) = try ApprovalEndToEndTests.world()
        let repo = fixture.git.path
        let digest = try runProcess([agentBinary(), "approval-digest", "--repo", repo, "--pipeline", "shop", "--stage", "prod"])
        #expect(digest.status == 0, "\(digest.stderr)")
        let printed = digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(printed.hasPrefix("sha256:") && printed.count == 71)
        let python = "\(repositoryRoot)/.venv/bin/python"
        let recipe = try runProcess([
            "/bin/sh", "-c",
            python
                + #" -c 'import sys,yaml,json; d=yaml.safe_load(open(sys.argv[1])); s=[s for s in d["spec"]["stages"] if s["name"]==sys.argv[2]][0]; print(json.dumps({k:v for k,v in s.items() if k in ("steps","verify","rollback","vars","approvals","windows","timeout","checkout")}))' "$1" prod | jq -cjS . | sha256sum"#,
            "sh", "\(repo)/pipelines/shop.yaml",
        ])
        #expect(recipe.status == 0, "\(recipe.stderr)")
        #expect("sha256:" + (recipe.stdout.split(separator: " ").first.map { String($0) } ?? "") == printed, "\(recipe.stdout)")
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        let written = try TrustBoundaryTests.approve(fixture, keys, candidate, ["alice"])
        #expect(!written.isEmpty)
        let file = try fixture.git.git("ls-files", "approvals").split(separator: "\n").first { $0.hasSuffix(".yaml") }
        let text = try String(contentsOfFile: repo + "/" + String(file ?? ""), encoding: .utf8)
        #expect(text.contains("stageDigest: \(printed)"), "\(text)")
        let unknown = try runProcess([agentBinary(), "approval-digest", "--repo", repo, "--pipeline", "shop", "--stage", "qa"])
        #expect(unknown.status == 1 && unknown.stderr.contains("pipeline shop has no stage 'qa' (stages: dev, staging, prod)"))
    }
}
