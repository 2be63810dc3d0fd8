import Foundation
import SpecModel
import TestSupport
import Testing

/// The agent config's reference and editor schema come from the description the config check uses.
@Suite("The agent config reference and schema")
struct ConfigSchemaTests {
    static let schemaFile = "docs/agent-config.schema.json"

    @Test("the committed reference and schema are exactly what the Swift description emits")
    func committedFilesAreCurrent() throws {
        let schema = try Data(contentsOf: repositoryRoot.appendingPathComponent(Self.schemaFile))
        #expect(schema == (try JSONSchemaEmitter.configSchemaJSON()), "run: make schema")
        let reference = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/agent-config.md"), encoding: .utf8)
        #expect(reference == ConfigReference.markdown(), "run: make schema")
    }

    @Test("the reference names every key, nested ones by their full path, and where each goes")
    func referenceNamesEveryKey() {
        let reference = ConfigReference.markdown()
        for row in [
            "| `shutdownGrace` | a duration such as 90s, 15m, 2h or 1h30m |  |",
            "| `execution.maxConcurrentPromotions` | integer ≥ 1 |",
            "| `notifications.<name>.type` | one of `slack`, `pagerduty`, `webhook` | yes |",
            "| `protect[].minApprovals` |", "| `secrets.<name>.env` |", "| `state.logRetention` |",
            "| `trust.allowedSigners` | text | yes |", "| `witness.interval` |",
        ] {
            #expect(reference.contains(row), "missing: \(row)")
        }
    }

    @Test("the example config passes the agent's check and the editor schema; a misplaced key fails both")
    func exampleAndMisplacedKey() throws {
        let example = repositoryRoot.appendingPathComponent("examples/agent.yaml").path
        let text = try String(contentsOfFile: example, encoding: .utf8)
        let container = repositoryRoot.appendingPathComponent("examples/container-agent.yaml").path
        for path in [example, container] {
            if case .failure(let error) = AgentConfigLoader.load(path: path) { Issue.record("\(path): \(error)") }
        }
        // Found by trial before the reference existed: shutdownGrace is a top-level key, not execution's.
        let misplaced = text.replacingOccurrences(of: "shutdownGrace: 10s\n", with: "")
            .replacingOccurrences(
                of: "  maxConcurrentPromotions: 4\n", with: "  maxConcurrentPromotions: 4\n  shutdownGrace: 10s\n")
        let scratch = try Scratch()
        let misplacedPath = scratch.sub("agent.yaml")
        try misplaced.write(toFile: misplacedPath, atomically: false, encoding: .utf8)
        guard case .failure(let error) = AgentConfigLoader.load(path: misplacedPath) else {
            Issue.record("execution.shutdownGrace was accepted")
            return
        }
        #expect(error.description.contains("shutdownGrace"))
        let containerText = try String(contentsOfFile: container, encoding: .utf8)
        let documents = try [text, misplaced, containerText].flatMap { try YAMLJSON.documents(from: $0) }
        #expect(try rejectedBySchema(documents, schema: Self.schemaFile) == [1])
    }
}
