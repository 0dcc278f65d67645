/// What `send(audio:)` did with the bytes.
public enum PersonaPlexSendResult: Sendable, Equatable {
    /// Queued for the event loop to write.
    case queued
    /// Refused: the session is not live (before `0x00` or after the end). Nothing is sent before `0x00`.
    case notLive
    /// Dropped: too many bytes are waiting to be written (network stalled).
    case droppedBacklog
}
