import FuzzSupport
import Nodes
import RouterCore

// What `router check` runs on a pipeline file: YAML reader, spec, validator against the shipped node types, and the
// diagnostics' text. Any input must end in a validated pipeline or in diagnostics, never a trap or a hang.
let validator = PipelineValidator(registry: .standard)
let environment = PipelineEnvironment(["HOME": "/tmp", "VOICE": "NATF0.pt", "EMPTY": ""])

FuzzDriver.run { data in
    // `router check` refuses a file that is not UTF-8 before parsing it.
    guard let text = String(validating: data, as: UTF8.self) else { return }
    do {
        let pipeline = try validator.validate(yaml: text, file: "fuzz.yaml", environment: environment)
        precondition(!pipeline.nodes.isEmpty, "a validated pipeline has nodes")
    } catch let errors as PipelineErrors {
        precondition(!errors.diagnostics.isEmpty, "a failed check reports at least one problem")
        _ = errors.description
    } catch {
        preconditionFailure("validate threw something other than PipelineErrors: \(error)")
    }
}
