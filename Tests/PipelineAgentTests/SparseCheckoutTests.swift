import Foundation
import TestSupport
import Testing

@Suite("A stage's checkout narrowed to some paths")
struct SparseCheckoutTests {
    static let list = #"find . \( -type f -o -type l \) | sort > "$PA_ROOT/STAGE.files""#

    @Test("steps see only the files the stage's checkout paths match; a stage without them sees the whole tree")
    func onlyMatchingFiles() throws {
        let stages = """
                - name: dev
                  checkout: {paths: ["app/**", "shared/macros.sql", "docs/*.md"]}
                  steps: [{name: list, run: '\(Self.list.replacingOccurrences(of: "STAGE", with: "dev"))'}]
                - name: staging
                  from: dev
                  soak: 0s
                  steps: [{name: list, run: '\(Self.list.replacingOccurrences(of: "STAGE", with: "staging"))'}]
            """
        let fixture = try AgentFixture(stages: stages)
        try fixture.push(
            "more files",
            files: [
                "app/version.txt": "v2\n", "app/sub/deep.sql": "select 1\n", "shared/macros.sql": "m\n",
                "shared/other.sql": "o\n", "docs/a.md": "a\n", "docs/nested/b.md": "b\n", "other-team/data.txt": "x\n",
            ])
        _ = try sh("ln", "-s", "version.txt", "\(fixture.git.path)/app/link")
        try fixture.push("a link", files: ["app/version.txt": "v3\n"])
        let result = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(result.status == 0, "\(result.stderr)")

        let dev = try String(contentsOfFile: "\(fixture.root)/dev.files", encoding: .utf8)
        #expect(dev == "./app/link\n./app/sub/deep.sql\n./app/version.txt\n./docs/a.md\n./shared/macros.sql\n")
        let staging = try String(contentsOfFile: "\(fixture.root)/staging.files", encoding: .utf8)
        for path in ["./other-team/data.txt", "./shared/other.sql", "./docs/nested/b.md", "./pipelines/shop.yaml"] {
            #expect(staging.contains(path + "\n"), "the whole tree for staging: \(path)")
        }
    }

    @Test("checkout paths that leave the repository are refused with their location")
    func escapingPathsRefused() throws {
        let stages = """
                - name: dev
                  checkout: {paths: ["app/**", "../../etc/**"]}
                  steps: [{name: s, run: 'true'}]
            """
        let fixture = try AgentFixture(stages: stages)
        let result = try fixture.agent("validate", fixture.git.path)
        #expect(result.status != 0)
        #expect(result.stdout.contains("pipelines/shop.yaml:8:36: error"), "located at the glob: \(result.stdout)")
        #expect(result.stdout.contains("'../../etc/**' is not a relative path glob"), "\(result.stdout)")
        let empty = try AgentFixture(stages: stages.replacingOccurrences(of: #"["app/**", "../../etc/**"]"#, with: "[]"))
        #expect(try empty.agent("validate", empty.git.path).status != 0, "an empty list would check out nothing")
    }
}
