import Foundation
import SpecModel
import TestSupport
import Testing

/// The Python that has the `jsonschema` package: the project's venv, made by `make test`.
func jsonSchemaPython() -> String {
    ProcessInfo.processInfo.environment["PA_PYTHON"] ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path
}

/// Validates JSON documents against the committed schema with Python's jsonschema; returns the
/// indices of the documents it rejects.
func rejectedBySchema(_ documents: [Any], schema: String = "pipelines/pipeline.schema.json") throws -> Set<Int> {
    let scratch = try Scratch()
    let documentsPath = scratch.sub("documents.json")
    try JSONSerialization.data(withJSONObject: documents).write(to: URL(fileURLWithPath: documentsPath))
    let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for index, document in enumerate(json.load(open(sys.argv[2]))):
            if list(validator.iter_errors(document)):
                print(index)
        """
    let schemaPath = repositoryRoot.appendingPathComponent(schema).path
    let output = try sh(jsonSchemaPython(), "-c", script, schemaPath, documentsPath)
    return Set(output.split(separator: "\n").compactMap { Int($0) })
}

@Suite("The JSON Schema stays in step with the Swift types")
struct SchemaTests {
    @Test("the committed schema is exactly what the Swift schema emits")
    func committedSchemaIsCurrent() throws {
        let committed = try Data(contentsOf: repositoryRoot.appendingPathComponent("pipelines/pipeline.schema.json"))
        let emitted = try JSONSchemaEmitter.pipelineSchemaJSON()
        #expect(committed == emitted, "run: swift run pipeline-agent schema > pipelines/pipeline.schema.json")
    }

    @Test("valid pipelines pass both validators; structurally broken ones fail both")
    func bothValidatorsAgree() throws {
        var documents: [Any] = []
        var swiftValid: [Bool] = []
        let validFiles = [
            repositoryRoot.appendingPathComponent("pipelines/olist-analytics.yaml"),
            repositoryRoot.appendingPathComponent("examples/minimal/pipelines/hello.yaml"),
            fixtures.appendingPathComponent("valid/multi-document.yaml"),
        ]
        let structural = ["unknown-key", "wrong-types", "missing-required", "empty-steps", "bad-durations", "bad-thresholds"]
        let brokenFiles = structural.map { fixtures.appendingPathComponent("invalid/\($0).yaml") }
        for url in validFiles + brokenFiles {
            let bytes = try Data(contentsOf: url)
            let file = SpecFile(path: url.lastPathComponent, bytes: bytes)
            for document in try YAMLJSON.documents(from: String(decoding: bytes, as: UTF8.self)) {
                guard let object = document as? [String: Any], object["kind"] as? String == "Pipeline" else { continue }
                documents.append(object)
                swiftValid.append(!file.diagnostics.hasErrors)
            }
        }
        let rejected = try rejectedBySchema(documents)
        for index in documents.indices {
            #expect(swiftValid[index] == !rejected.contains(index), "document \(index) judged differently")
        }
        #expect(swiftValid.filter { $0 }.count == 4)
        #expect(swiftValid.filter { !$0 }.count == structural.count)
    }
}
