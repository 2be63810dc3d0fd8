import Foundation
import SpecModel
import Testing

/// A check decoded from its YAML fields (`name: x, run: …`) through a one-stage pipeline, as the agent reads it.
func decodeCheck(_ fields: String) throws -> Check {
    let yaml = """
        apiVersion: pipeline-agent/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          source: {branch: main}
          stages: [{name: dev, steps: [{name: s, run: "true"}], verify: [{\(fields)}]}]
        """
    let catalog = SpecCatalog(files: [("pipelines/p.yaml", Data(yaml.utf8))])
    return try #require(catalog.pipelines.first?.pipeline.spec.stages[0].verify?.first, "\(catalog.diagnostics)")
}
