import Foundation
import TestSupport
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

@Suite("pipeline-agent validate, as a PR check runs it")
struct ValidateCommandTests {
    @Test("the reference pipeline and the examples are valid: exit 0")
    func validDirectories() throws {
        for directory in ["pipelines", "examples/minimal"] {
            let result = try runAgent("validate", directory, in: repositoryRoot)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stderr.hasPrefix("valid: "))
        }
    }

    @Test("a repository with a broken spec: exit 1 and located messages")
    func brokenRepository() throws {
        let scratch = try Scratch()
        let reference = try String(contentsOfFile: "\(repositoryRoot)/pipelines/olist-analytics.yaml", encoding: .utf8)
        try scratch.write("pipelines/olist.yaml", reference.replacingOccurrences(of: "from: staging", with: "from: stagin"))
        try scratch.write("examples/olist-analytics/dbt_project.yml", "name: olist\nprofile: olist\n")
        let result = try runAgent("validate", scratch.path)
        #expect(result.status == 1)
        let line = try #require(result.stdout.split(separator: "\n").first)
        let fromLine =
            try #require(
                reference.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("from: staging") })
            + 1
        #expect(
            line.hasPrefix("\(scratch.path)/pipelines/olist.yaml:\(fromLine):13: error: stage 'prod' comes from unknown stage"))
        #expect(result.stderr.contains("1 error"))
    }

    @Test("usage errors exit 2")
    func usageErrors() throws {
        #expect(try runAgent("validate", "/no/such/dir").status == 2)
        #expect(try runAgent("validate", "--no-such-flag").status == 2)
        #expect(try runAgent("no-such-command").status == 2)
    }

    @Test("a directory without specs is not silently valid")
    func noSpecs() throws {
        let scratch = try Scratch()
        try scratch.write("config.yaml", "a: 1\n")
        let result = try runAgent("validate", scratch.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no pipeline-agent specs found"))
    }

    @Test("--output json is machine-readable")
    func json() throws {
        let scratch = try Scratch()
        try scratch.write("pipelines/p.yaml", "apiVersion: pipeline-agent/v1\nkind: Pipeline\nmetadata: {name: p}\n")
        let result = try runAgent("validate", "--output", "json", scratch.path)
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.first?["message"] as? String == "Pipeline: missing required key 'spec'")
    }

    @Test("--help documents every subcommand")
    func help() throws {
        let result = try runAgent("--help")
        #expect(result.status == 0)
        for command in ["validate", "plan", "run", "status", "approve", "audit", "schema"] {
            #expect(result.stdout.contains(command))
        }
        let validate = try runAgent("validate", "--help")
        #expect(validate.stdout.contains("Exit status: 0 valid"))
    }

    @Test("version names the release and the linked libraries; -o is --output")
    func version() throws {
        let text = try runAgent("version")
        #expect(text.status == 0)
        for line in ["pipeline-agent 0.1.0", "libgit2  1.", "libcurl  ", "sqlite   3."] {
            #expect(text.stdout.contains(line), "\(text.stdout)")
        }
        let json = try runAgent("version", "-o", "json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String])
        #expect(object["version"] == "0.1.0")
        #expect(object["libgit2"]?.split(separator: ".").count == 3, "\(object)")
        #expect(try runAgent("--version").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let scratch = try Scratch()
        try scratch.write("pipelines/x.yaml", "kind: Pipeline\n")
        #expect(try runAgent("validate", "-o", "json", scratch.path).stdout.hasPrefix("{"))
    }
}
