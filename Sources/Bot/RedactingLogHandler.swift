import Foundation
import Logging

/// Wraps a log handler so that the given secrets (the bot token) are replaced by `[redacted]` in every message and
/// metadata value. The bot never logs its token on purpose; this catches an error description from a library
/// that might quote a request.
public struct RedactingLogHandler: LogHandler {
    private var inner: any LogHandler
    private let secrets: [String]

    public init(wrapping inner: any LogHandler, secrets: [String]) {
        self.inner = inner
        self.secrets = secrets.filter { $0.count >= 8 }
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(redact(event.message.description))"
        event.metadata = event.metadata.map(redact)
        if let error = event.error { event.error = RedactedError(description: redact("\(error)")) }
        inner.log(event: event)
    }

    func redact(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "[redacted]") }
    }

    func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(redact)
    }

    func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case let .string(text): return .string(redact(text))
        case let .stringConvertible(convertible): return .string(redact(convertible.description))
        case let .array(values): return .array(values.map(redact))
        case let .dictionary(values): return .dictionary(values.mapValues(redact))
        }
    }
}

/// An error whose text had a secret removed.
struct RedactedError: Error, CustomStringConvertible {
    var description: String
}
