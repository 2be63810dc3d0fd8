import ArgumentParser
import Foundation
import SpecModel

/// `pipeline-agent schema`: prints the JSON Schema of the Pipeline document.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of the Pipeline document (the source of pipelines/pipeline.schema.json).",
        discussion: "Point your editor's YAML language server at it for completion and checks while you type."
    )

    func run() throws {
        FileHandle.standardOutput.write(try JSONSchemaEmitter.pipelineSchemaJSON())
    }
}
