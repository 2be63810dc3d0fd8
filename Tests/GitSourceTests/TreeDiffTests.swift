import Foundation
import GitSource
import TestSupport
import Testing

@Suite("Changed files by tree comparison")
struct TreeDiffTests {
    /// Each step changes the work tree with a shell command and commits; the tree comparison must name
    /// exactly the paths libgit2's diff names (renames as deletion plus addition).
    static let steps: [String] = [
        "mkdir -p a d/e && echo 1 > a.txt && echo 1 > a-b && echo 1 > a/x && echo 1 > d/e/f && echo 1 > z",
        "echo 2 > a/x",
        "rm -r a && echo file > a",  // a tree becomes a file of the same name
        "rm a && mkdir a && echo y > a/y && echo 2 > a.txt",  // and back, with a neighbour changed
        "chmod +x z",  // mode only
        "ln -s a.txt link && mkdir -p d/e/g/h && echo deep > d/e/g/h/i",
        "rm link && ln -s a-b link && rm -r d/e/g",
        "git mv d/e/f d/e/renamed && echo 3 > a-b",
        "rm -r d && echo new > 0first && echo new > zz",
        "git rm -q -r --cached . >/dev/null && rm -rf ./* && echo only > only.txt",
    ]

    @Test("names what libgit2's diff names, through type changes, modes, links, renames and deletions")
    func sameAsLibgit2() throws {
        let fixture = try GitFixture()
        var commits: [String] = []
        for (number, command) in Self.steps.enumerated() {
            _ = try sh("sh", "-c", command, in: fixture.path)
            try fixture.git("add", "-A")
            try fixture.git("commit", "-q", "--allow-empty", "-m", "step \(number)")
            commits.append(try fixture.git("rev-parse", "HEAD"))
        }
        let repository = try GitRepository.open(at: fixture.path)
        var previous: ObjectID?
        for (number, hex) in commits.enumerated() {
            let commit = try #require(ObjectID(hex: hex))
            let files = try repository.changedFiles(from: previous, to: commit)
            let expected = try repository.changedPaths(from: previous, to: commit, detectRenames: false)
                .flatMap(\.allPaths)
            #expect(files.count == Set(files).count, "step \(number) names a path twice: \(files)")
            #expect(Set(files) == Set(expected), "step \(number): \(Self.steps[number])")
            #expect(!files.isEmpty, "every step changes something")
            previous = commit
        }
        let unchanged = try repository.changedFiles(from: previous, to: try #require(previous))
        #expect(unchanged.isEmpty)
    }
}
