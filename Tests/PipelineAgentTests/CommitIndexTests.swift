import Foundation
import TestSupport
import Testing

/// A repository made by `Benchmarks/generate-repo.py` and an agent config watching it.
struct GeneratedRepository {
    let scratch: Scratch
    var remote: String { scratch.sub("team.git") }
    var config: String { scratch.sub("agent.yaml") }

    init(pipelines: Int, commits: Int, touch: String) throws {
        scratch = try Scratch()
        let generator = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/generate-repo.py").path
        try sh(
            "python3", generator, "--pipelines", "\(pipelines)", "--commits", "\(commits)", "--touch", touch, "--out",
            scratch.sub("team.git"))
        try scratch.write("agent.yaml", "source: {url: ./team.git, branch: main}\nstate: {path: ./state}\n")
    }

    func agent(_ arguments: String...) throws -> ProcessResult {
        try runProcess([agentBinary()] + arguments + ["--config", config])
    }

    /// Stage name → current candidate of pipeline `name`, from `status --output json`.
    func current(_ name: String) throws -> [String: String] {
        let json = try agent("status", "--output", "json").stdout
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let pipeline = (object?["pipelines"] as? [[String: Any]])?.first { $0["name"] as? String == name }
        let stages = pipeline?["stages"] as? [[String: Any]] ?? []
        return Dictionary(
            uniqueKeysWithValues: stages.compactMap { stage in
                (stage["name"] as? String).flatMap { key in (stage["current"] as? String).map { (key, $0) } }
            })
    }

    /// Commits one file change on top of the remote's main (or of `base`, then force-pushes); returns the id.
    func push(_ path: String, _ text: String, base: String? = nil) throws -> String {
        let work = scratch.sub("work-\(UUID().uuidString.prefix(6))")
        try sh("git", "clone", "-q", remote, work)
        if let base { try sh("git", "-C", work, "reset", "-q", "--hard", base) }
        try scratch.write(String(work.dropFirst(scratch.path.count + 1)) + "/" + path, text)
        try sh("git", "-C", work, "add", "-A")
        try sh("git", "-C", work, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "change \(path)")
        try sh("git", "-C", work, "push", "-q", "--force", "origin", "main")
        return try sh("git", "-C", work, "rev-parse", "HEAD")
    }
}

@Suite("Candidates at any depth, from a commit index kept across restarts")
struct CommitIndexTests {
    @Test("a pipeline whose last change is 5,000 commits deep gets its candidate and is promoted")
    func deepCandidate() throws {
        let repo = try GeneratedRepository(pipelines: 1, commits: 5000, touch: "noise")
        let first = try sh("git", "-C", repo.remote, "rev-list", "--max-parents=0", "main")
        let run = try repo.agent("run", "--once")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try repo.current("p0") == ["dev": first, "staging": first])
        #expect(FileManager.default.fileExists(atPath: repo.scratch.sub("state/cache.sqlite")))
    }

    @Test("the index follows new commits, a rewritten history, a deleted and a corrupt cache")
    func indexFollowsTheBranch() throws {
        let repo = try GeneratedRepository(pipelines: 3, commits: 30, touch: "round-robin")
        #expect(try repo.agent("run", "--once").status == 0)
        let base = try sh("git", "-C", repo.remote, "rev-parse", "main~5")

        let next = try repo.push("teams/p1/data.txt", "next\n")
        #expect(try repo.agent("run", "--once").status == 0)
        #expect(try repo.current("p1")["staging"] == next)

        let rewritten = try repo.push("teams/p2/data.txt", "rewritten\n", base: base)
        #expect(try repo.agent("run", "--once").status == 0)
        #expect(try repo.current("p2")["staging"] == rewritten, "a force-push: the index is cut where it forked")
        let p1Now = try sh("git", "-C", repo.remote, "log", "-1", "--format=%H", "main", "--", "teams/p1")
        #expect(p1Now != next)
        #expect(try repo.current("p1")["staging"] == p1Now, "p1 follows the rewritten branch back (its candidate vanished)")

        try FileManager.default.removeItem(atPath: repo.scratch.sub("state/cache.sqlite"))
        let afterDelete = try repo.push("teams/p0/data.txt", "after delete\n")
        let rebuilt = try repo.agent("run", "--once")
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(try repo.current("p0")["staging"] == afterDelete)

        try Data("not a database".utf8).write(to: URL(fileURLWithPath: repo.scratch.sub("state/cache.sqlite")))
        let afterCorrupt = try repo.push("teams/p1/data.txt", "after corrupt\n")
        let recovered = try repo.agent("run", "--once")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(try repo.current("p1")["staging"] == afterCorrupt)
        #expect(try repo.agent("audit", "verify").status == 0)
    }
}

@Suite("Records of change, not of state")
struct AuditGrowthTests {
    /// Bytes the audit log grew by when one commit changed one pipeline, and that run's `plan.changed` records.
    static func growthOfOneCommit(pipelines: Int) throws -> (bytes: Int, planChanges: [[String: Any]]) {
        let repo = try GeneratedRepository(pipelines: pipelines, commits: 0, touch: "round-robin")
        #expect(try repo.agent("run", "--once").status == 0)
        let log = repo.scratch.sub("state/audit.jsonl")
        let before = try Data(contentsOf: URL(fileURLWithPath: log))
        _ = try repo.push("teams/p1/data.txt", "changed\n")
        #expect(try repo.agent("run", "--once").status == 0)
        let after = try Data(contentsOf: URL(fileURLWithPath: log))
        let records = after.dropFirst(before.count).split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
        let changes = records.filter { $0["type"] as? String == "plan.changed" }.flatMap {
            (($0["detail"] as? [String: Any])?["stages"] as? [[String: Any]]) ?? []
        }
        return (after.count - before.count, changes)
    }

    @Test("one commit to one pipeline: plan.changed names only its stages; the log grows the same at 5 and 30 pipelines")
    func growthIndependentOfPipelines() throws {
        let small = try Self.growthOfOneCommit(pipelines: 5)
        let large = try Self.growthOfOneCommit(pipelines: 30)
        #expect(!large.planChanges.isEmpty)
        #expect(large.planChanges.allSatisfy { $0["pipeline"] as? String == "p1" }, "\(large.planChanges)")
        #expect(Double(large.bytes) <= Double(small.bytes) * 1.1, "5 pipelines: \(small.bytes) B, 30: \(large.bytes) B")
    }
}
