/// Voice gateway v8 opcodes (discord.md §3 table).
public enum VoiceOpcode {
    public static let identify = 0
    public static let selectProtocol = 1
    public static let ready = 2
    public static let heartbeat = 3
    public static let sessionDescription = 4
    public static let speaking = 5
    public static let heartbeatAck = 6
    public static let resume = 7
    public static let hello = 8
    public static let resumed = 9
    public static let clientsConnect = 11
    public static let clientDisconnect = 13
    public static let davePrepareTransition = 21
    public static let daveExecuteTransition = 22
    public static let daveTransitionReady = 23
    public static let davePrepareEpoch = 24
    public static let mlsExternalSender = 25
    public static let mlsKeyPackage = 26
    public static let mlsProposals = 27
    public static let mlsCommitWelcome = 28
    public static let mlsAnnounceCommitTransition = 29
    public static let mlsWelcome = 30
    public static let mlsInvalidCommitWelcome = 31
}
