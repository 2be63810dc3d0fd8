import Foundation
import GitSource
import TestSupport
import Testing

@Suite("Reading history and content")
struct RepositoryTests {
    @Test("first-parent history skips the commits of a merged branch")
    func firstParentAcrossMerges() throws {
        let fixture = try GitFixture()
        let base = try fixture.commit("base", files: ["a.txt": "1"])
        try fixture.git("checkout", "-q", "-b", "feature")
        let side = try fixture.commit("side work", files: ["b.txt": "2"])
        try fixture.git("checkout", "-q", "main")
        let mainline = try fixture.commit("mainline", files: ["c.txt": "3"])
        try fixture.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
        let merge = try fixture.git("rev-parse", "HEAD")

        let repository = try GitRepository.open(at: fixture.path)
        let tip = try repository.resolveBranch("main")
        #expect(tip.hex == merge)
        let history = try repository.firstParentHistory(from: tip).map(\.hex)
        #expect(history == [merge, mainline, base])
        #expect(!history.contains(side))
        let limited = try repository.firstParentHistory(from: tip, stopBefore: ObjectID(hex: base)).map(\.hex)
        #expect(limited == [merge, mainline])
        let info = try repository.commit(tip)
        #expect(info.parents.count == 2)
        #expect(info.summary == "merge feature")
        #expect(info.author.email == "dev@acme.test")
        #expect(try repository.isAncestor(ObjectID(hex: side)!, of: tip))
    }

    @Test("changed paths between commits, including renames and the root commit")
    func changedPaths() throws {
        let fixture = try GitFixture()
        let first = try fixture.commit("first", files: ["keep.txt": "k", "models/orders.sql": "select 1"])
        try fixture.git("mv", "models/orders.sql", "models/fct_orders.sql")
        try fixture.git("commit", "-q", "-m", "rename")
        let second = try fixture.git("rev-parse", "HEAD")
        let repository = try GitRepository.open(at: fixture.path)

        let root = try repository.changedPaths(in: ObjectID(hex: first)!)
        #expect(Set(root.map(\.path)) == ["keep.txt", "models/orders.sql"])
        #expect(root.allSatisfy { $0.status == .added })
        let renamed = try repository.changedPaths(from: ObjectID(hex: first)!, to: ObjectID(hex: second)!)
        #expect(renamed.count == 1)
        #expect(renamed.first?.status == .renamed)
        #expect(renamed.first?.allPaths == ["models/orders.sql", "models/fct_orders.sql"])
        let plain = try repository.changedPaths(from: ObjectID(hex: first)!, to: ObjectID(hex: second)!, detectRenames: false)
        #expect(plain.count == 2, "a deletion and an addition")
        #expect(Set(plain.flatMap(\.allPaths)) == Set(renamed.flatMap(\.allPaths)), "the same paths")
    }

    @Test("blobs and trees at a commit")
    func blobsAndTrees() throws {
        let fixture = try GitFixture()
        let id = try fixture.commit(
            "specs",
            files: ["pipelines/a.yaml": "a: 1\n", "pipelines/nested/b.yaml": "b: 2\n", "README.md": "hi"])
        let repository = try GitRepository.open(at: fixture.path)
        let commit = try #require(ObjectID(hex: id))

        #expect(try repository.blob(at: "pipelines/a.yaml", in: commit) == Data("a: 1\n".utf8))
        #expect(try repository.blob(at: "pipelines/missing.yaml", in: commit) == nil)
        #expect(try repository.blob(at: "pipelines", in: commit) == nil)
        let error = #expect(throws: GitError.self) { try repository.blob(at: "README.md", in: commit, maxBytes: 1) }
        #expect(error?.kind == .tooLarge)

        let entries = try repository.tree(under: "pipelines", in: commit)
        #expect(entries.map(\.path) == ["pipelines/a.yaml", "pipelines/nested/b.yaml"])
        #expect(try repository.tree(under: "nowhere", in: commit).isEmpty)
        #expect(try repository.tree(under: "", in: commit).count == 3)
    }

    @Test("a checkout holds exactly the candidate's files, executable bits included")
    func materialize() throws {
        let fixture = try GitFixture()
        try fixture.scratch.write("work/run.sh", "#!/bin/sh\necho hi\n")
        try sh("chmod", "+x", fixture.scratch.sub("work/run.sh"))
        let id = try fixture.commit("files", files: ["dir/data.csv": "x,y\n"])
        try fixture.commit("later", files: ["dir/data.csv": "changed\n"])
        let bare = try fixture.bareClone()
        let repository = try GitRepository.open(at: bare)
        let target = fixture.scratch.sub("checkout")

        try repository.materialize(try #require(ObjectID(hex: id)), into: target)
        #expect(try String(contentsOfFile: "\(target)/dir/data.csv", encoding: .utf8) == "x,y\n")
        #expect(FileManager.default.isExecutableFile(atPath: "\(target)/run.sh"))
        #expect(!FileManager.default.fileExists(atPath: "\(target)/.git"))
        let again = #expect(throws: GitError.self) { try repository.materialize(ObjectID(hex: id)!, into: target) }
        #expect(again?.kind == .invalidArgument)
    }

    @Test("errors say what to check")
    func errors() throws {
        let scratch = try Scratch()
        let notRepo = #expect(throws: GitError.self) { try GitRepository.open(at: scratch.path) }
        #expect(notRepo?.kind == .notARepository)
        #expect(notRepo?.description.contains("points at a Git repository") == true)

        let fixture = try GitFixture()
        try fixture.commit("one", files: ["a": "1"])
        let repository = try GitRepository.open(at: fixture.path)
        let branch = #expect(throws: GitError.self) { try repository.resolveBranch("nope") }
        #expect(branch?.kind == .unknownBranch)
        let missing = #expect(throws: GitError.self) {
            try repository.commit(ObjectID(hex: String(repeating: "ab", count: 20))!)
        }
        #expect(missing?.kind == .notFound)
    }
}
