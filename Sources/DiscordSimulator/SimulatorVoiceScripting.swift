import Foundation

/// Scripted voice-server events (the voice simulator uses them for a voice server move).
extension DiscordSimulator {
    /// `userID`'s voice session id in `guildID` (from their last VOICE_STATE_UPDATE), if they are in voice.
    public func voiceSessionID(of userID: UInt64, guildID: UInt64) -> String? {
        state.withLock { $0.guilds[guildID]?.voice[userID]?.session }
    }

    /// Sends VOICE_SERVER_UPDATE (a new voice server for the guild) to every valid gateway session of `userID`,
    /// as Discord does when it moves a call to another voice server.
    public func sendVoiceServerUpdate(guildID: UInt64, userID: UInt64, token: String, endpoint: String) {
        state.withLock { state in
            let data = SimJSON.encode(["token": token, "guild_id": String(guildID), "endpoint": endpoint])
            for session in state.sessions.values where session.userID == userID && session.valid {
                send(&state, sessionID: session.id, event: "VOICE_SERVER_UPDATE", data: data)
            }
        }
    }
}
