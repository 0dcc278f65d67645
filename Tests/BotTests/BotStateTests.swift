import Discord
import Realtime
import XCTest

@testable import Bot

/// The session manager's rules on the pure state machine (no transport, no clock but a manual one).
final class BotStateTests: XCTestCase {
    typealias F = Fixture

    func makeState(backends: Int = 1, clock: ManualClock = ManualClock()) -> BotState {
        var state = BotState(prefix: "!", statusChannelID: nil, backendCount: backends, clock: clock)
        _ = state.apply(.event(.ready(botUserID: F.botID)))
        for (id, name) in [(F.guildA, "Server A"), (F.guildB, "Server B"), (F.guildC, "Server C")] {
            _ = state.apply(.event(.guildAvailable(F.guild(id, name))))
        }
        return state
    }

    func plans(_ effects: [BotEffect]) -> [SessionPlan] {
        effects.compactMap { if case let .startSession(plan) = $0 { return plan } else { return nil } }
    }

    func posts(_ effects: [BotEffect]) -> [(Snowflake, String)] {
        effects.compactMap { if case let .post(channel, text) = $0 { return (channel, text) } else { return nil } }
    }

    /// Starts a session for `user` and reports it live.
    @discardableResult
    func join(_ state: inout BotState, _ user: BotUser, _ guild: Snowflake, _ channel: Snowflake) -> SessionPlan? {
        let effects = state.apply(.event(F.voice(user, guild, channel)))
        guard let plan = plans(effects).first else { return nil }
        _ = state.apply(
            .sessionStarted(
                plan.id,
                settings: UserSettings(
                    userID: user.id, textPrompt: "p",
                    voice: "NATF0.pt"), voiceFallback: nil))
        return plan
    }

    func testAutoJoinAndLeaveAcrossTwoGuilds() {
        let clock = ManualClock()
        var state = makeState(backends: 2, clock: clock)
        let a = join(&state, F.alice, F.guildA, F.voiceA1)
        let b = join(&state, F.bob, F.guildB, F.voiceB1)
        XCTAssertEqual(a?.voiceChannelID, F.voiceA1)
        XCTAssertEqual(b?.voiceChannelID, F.voiceB1)
        XCTAssertEqual(a?.backendIndex, 0)
        XCTAssertEqual(b?.backendIndex, 1)
        XCTAssertEqual(a?.textChannelID, F.voiceA1, "status goes to the voice channel's own chat")

        // A second human joins Alice's channel: nothing new; Alice leaves: Carol remains, the bot stays.
        XCTAssertTrue(plans(state.apply(.event(F.voice(F.carol, F.guildA, F.voiceA1)))).isEmpty)
        XCTAssertTrue(state.apply(.event(F.voice(F.alice, F.guildA, nil))).isEmpty)
        XCTAssertEqual(state.sessionChannel(in: F.guildA), F.voiceA1)

        // Carol leaves too: no human remains, the session in A stops; B is untouched.
        clock.advance(seconds: 192)
        let effects = state.apply(.event(F.voice(F.carol, F.guildA, nil)))
        XCTAssertEqual(effects.first, .stopSession(a!.id))
        let ended = posts(effects)
        XCTAssertEqual(ended.count, 1)
        XCTAssertEqual(ended.first?.0, F.voiceA1)
        XCTAssertTrue(ended.first?.1.contains("ended after 3 min 12 s") == true, ended.first?.1 ?? "")
        XCTAssertTrue(ended.first?.1.contains("everyone left") == true)
        XCTAssertNil(state.sessionChannel(in: F.guildA))
        XCTAssertEqual(state.sessionChannel(in: F.guildB), F.voiceB1)

        // Bob leaves B: the bot leaves B.
        XCTAssertEqual(state.apply(.event(F.voice(F.bob, F.guildB, nil))).first, .stopSession(b!.id))
        XCTAssertTrue(state.sessions.isEmpty)
        XCTAssertEqual(state.holders, [nil, nil])
    }

    func testBotAccountsNeitherTriggerNorCountAsHumans() {
        var state = makeState()
        XCTAssertTrue(state.apply(.event(F.voice(F.otherBot, F.guildA, F.voiceA1))).isEmpty)
        join(&state, F.alice, F.guildA, F.voiceA1)
        // Only the music bot remains with our bot: that is "no humans".
        let effects = state.apply(.event(F.voice(F.alice, F.guildA, nil)))
        XCTAssertTrue(effects.contains { if case .stopSession = $0 { return true } else { return false } })
    }

    func testMuteOrDeafenIsNotAnArrival() {
        var state = makeState()
        join(&state, F.alice, F.guildA, F.voiceA1)
        XCTAssertTrue(state.apply(.event(F.voice(F.alice, F.guildA, F.voiceA1))).isEmpty)
    }

    func testQueueAndBusyMessageWithTwoBackendsAndThreeChannels() {
        var state = makeState(backends: 2)
        let a = join(&state, F.alice, F.guildA, F.voiceA1)!
        join(&state, F.bob, F.guildB, F.voiceB1)

        // Carol arrives in a third server: both backends are busy elsewhere.
        let busy = state.apply(.event(F.voice(F.carol, F.guildC, F.voiceC1)))
        XCTAssertTrue(plans(busy).isEmpty)
        let message = posts(busy)
        XCTAssertEqual(message.count, 1)
        XCTAssertEqual(message.first?.0, F.voiceC1, "told in the channel she joined")
        let text = message.first?.1 ?? ""
        XCTAssertTrue(text.contains("Carol"), text)
        XCTAssertTrue(text.contains("all 2 of my AI voices are in use on other servers"), text)
        XCTAssertTrue(text.contains("number 1 in the queue"), text)
        XCTAssertFalse(text.contains("General"), "other servers' channel names are not disclosed: \(text)")
        XCTAssertEqual(state.queuePosition(of: F.carol.id, in: F.guildC), 1)

        // Dave arrives in Server A's other channel: the bot is busy in this server; he is second.
        let daveBusy = posts(state.apply(.event(F.voice(F.dave, F.guildA, F.voiceA2))))
        XCTAssertTrue(
            daveBusy.first?.1.contains("I'm already in **General** on this server") == true,
            daveBusy.first?.1 ?? "")
        XCTAssertTrue(daveBusy.first?.1.contains("number 2 in the queue") == true)

        // Alice leaves: backend 0 frees; Carol (first, still in voice) gets it, and the bot says so.
        let freed = state.apply(.event(F.voice(F.alice, F.guildA, nil)))
        XCTAssertEqual(freed.first, .stopSession(a.id))
        let next = plans(freed)
        XCTAssertEqual(next.count, 1, "one backend freed: Carol, first in the queue, gets it; Dave waits")
        XCTAssertEqual(next.first?.starter, F.carol)
        XCTAssertEqual(next.first?.voiceChannelID, F.voiceC1)
        XCTAssertEqual(next.first?.backendIndex, 0)
        XCTAssertTrue(
            posts(freed).contains {
                $0.0 == F.voiceC1 && $0.1.contains("I'm coming to **Studio** for Carol")
            })
    }

    func testQueueServesOnlyWhenABackendFrees() {
        var state = makeState(backends: 2)
        let a = join(&state, F.alice, F.guildA, F.voiceA1)!
        join(&state, F.bob, F.guildB, F.voiceB1)
        _ = state.apply(.event(F.voice(F.carol, F.guildC, F.voiceC1)))
        _ = state.apply(.event(F.voice(F.dave, F.guildA, F.voiceA2)))
        let freed = state.apply(.event(F.voice(F.alice, F.guildA, nil)))
        // One backend freed: Carol (first in the queue) gets it; Dave keeps waiting.
        XCTAssertEqual(plans(freed).map(\.starter), [F.carol])
        XCTAssertEqual(freed.first, .stopSession(a.id))
        XCTAssertEqual(state.queuePosition(of: F.dave.id, in: F.guildA), 1)
    }

    func testQueuedPersonWhoLeftVoiceIsSkipped() {
        var state = makeState(backends: 1)
        join(&state, F.alice, F.guildA, F.voiceA1)
        _ = state.apply(.event(F.voice(F.bob, F.guildB, F.voiceB1)))
        _ = state.apply(.event(F.voice(F.carol, F.guildC, F.voiceC1)))
        _ = state.apply(.event(F.voice(F.bob, F.guildB, nil)))  // Bob gives up
        XCTAssertNil(state.queuePosition(of: F.bob.id, in: F.guildB))
        let freed = state.apply(.event(F.voice(F.alice, F.guildA, nil)))
        XCTAssertEqual(plans(freed).map(\.starter), [F.carol])
    }

    func testQueuedPersonWhoMovedIsFollowed() {
        var state = makeState(backends: 1)
        join(&state, F.alice, F.guildA, F.voiceA1)
        _ = state.apply(.event(F.voice(F.bob, F.guildB, F.voiceB1)))
        _ = state.apply(.event(F.voice(F.alice, F.guildA, nil)))  // serves Bob... in B1
        XCTAssertEqual(state.sessionChannel(in: F.guildB), F.voiceB1)
    }

    func testSessionThatFailsToStartFreesItsBackendAndSaysWhy() {
        var state = makeState(backends: 1)
        let plan = plans(state.apply(.event(F.voice(F.alice, F.guildA, F.voiceA1)))).first!
        let effects = state.apply(.sessionFailed(plan.id, .backendUnreachable(detail: "127.0.0.1:1: refused")))
        let text = posts(effects).first?.1 ?? ""
        XCTAssertTrue(text.contains("the AI server is unreachable"), text)
        XCTAssertFalse(text.contains("127.0.0.1"), "technical detail stays in the log")
        XCTAssertEqual(state.holders, [nil])
        XCTAssertNil(state.sessionChannel(in: F.guildA))
    }

    func testSessionEndingByItselfIsReportedAndTheQueueServed() {
        let clock = ManualClock()
        var state = makeState(backends: 1, clock: clock)
        let plan = join(&state, F.alice, F.guildA, F.voiceA1)!
        _ = state.apply(.event(F.voice(F.bob, F.guildB, F.voiceB1)))
        clock.advance(seconds: 45)
        let effects = state.apply(.sessionEnded(VoiceSessionEnd(id: plan.id, problem: .backendBusy)))
        let ended = posts(effects).first { $0.0 == F.voiceA1 }?.1 ?? ""
        XCTAssertTrue(ended.contains("ended after 45 s"), ended)
        XCTAssertTrue(ended.contains("the AI server is busy with another client"), ended)
        XCTAssertFalse(effects.contains(.leaveVoice(guildID: F.guildA)), "the service has left voice already")
        XCTAssertEqual(plans(effects).map(\.starter), [F.bob])
    }

    func testEveryoneLeavingWhileStartingUndoesTheStart() {
        var state = makeState()
        let plan = plans(state.apply(.event(F.voice(F.alice, F.guildA, F.voiceA1)))).first!
        let left = state.apply(.event(F.voice(F.alice, F.guildA, nil)))
        XCTAssertEqual(left, [.stopSession(plan.id)], "not live yet: no 'ended' message")
        let late = state.apply(
            .sessionStarted(
                plan.id,
                settings: UserSettings(
                    userID: F.alice.id, textPrompt: "p",
                    voice: "NATF0.pt"), voiceFallback: nil))
        XCTAssertEqual(late, [.stopSession(plan.id)])
        XCTAssertEqual(state.holders, [nil])
    }

    func testDisconnectedByAModeratorEndsTheSession() {
        var state = makeState()
        join(&state, F.alice, F.guildA, F.voiceA1)
        let effects = state.apply(.event(F.voice(F.me, F.guildA, nil)))
        XCTAssertTrue(posts(effects).first?.1.contains("I was disconnected") == true)
        XCTAssertNil(state.sessionChannel(in: F.guildA))
    }

    func testMovedByAModeratorFollowsTheChannel() {
        var state = makeState()
        join(&state, F.alice, F.guildA, F.voiceA1)
        _ = state.apply(.event(F.voice(F.bob, F.guildA, F.voiceA2)))  // queued: the bot is busy in this server
        let effects = state.apply(.event(F.voice(F.me, F.guildA, F.voiceA2)))
        XCTAssertTrue(effects.isEmpty, "\(effects)")
        XCTAssertEqual(state.sessionChannel(in: F.guildA), F.voiceA2)
    }

    func testJoinAndLeaveCommands() {
        var state = makeState()
        // Not in voice: told to join first.
        var effects = state.apply(.event(F.message(F.alice, "!join")))
        XCTAssertEqual(
            effects,
            [
                .reply(
                    .channel(F.textA), text: BotMessages.joinVoiceFirst(prefix: "!"),
                    ephemeral: false)
            ])
        // In voice with the bot already there.
        let plan = join(&state, F.alice, F.guildA, F.voiceA1)!
        effects = state.apply(.event(F.message(F.alice, "!join")))
        XCTAssertEqual(
            effects,
            [
                .reply(
                    .channel(F.textA), text: BotMessages.alreadyHere(channel: "General"),
                    ephemeral: false)
            ])
        // Leave: the session ends even though Alice is still there.
        effects = state.apply(.event(F.slash(F.alice, "leave")))
        XCTAssertTrue(effects.contains(.stopSession(plan.id)))
        XCTAssertTrue(posts(effects).first?.1.contains("Alice asked me to leave") == true)
        // Join again by command.
        effects = state.apply(.event(F.slash(F.alice, "join")))
        XCTAssertEqual(plans(effects).first?.voiceChannelID, F.voiceA1)
    }

    func testStartupJoinsHumansAlreadyInVoiceAndLeavesAStaleChannel() {
        var state = BotState(prefix: "!", statusChannelID: Snowflake(555), backendCount: 1, clock: ManualClock())
        _ = state.apply(.event(.ready(botUserID: F.botID)))
        let effects = state.apply(
            .event(
                .guildAvailable(
                    F.guild(
                        F.guildA, "Server A",
                        voiceStates: [
                            VoiceStateChange(guildID: F.guildA, user: F.me, channelID: F.voiceA2),
                            VoiceStateChange(guildID: F.guildA, user: F.alice, channelID: F.voiceA1),
                        ]))))
        XCTAssertEqual(plans(effects).first?.voiceChannelID, F.voiceA1)
        XCTAssertEqual(plans(effects).first?.textChannelID, Snowflake(555), "STATUS_CHANNEL_ID wins")
        XCTAssertFalse(effects.contains(.leaveVoice(guildID: F.guildA)), "the join moves the bot; no racing leave")
        // With nobody in voice, the leftover channel is left.
        let alone = state.apply(
            .event(
                .guildAvailable(
                    F.guild(
                        F.guildB, "Server B",
                        voiceStates: [
                            VoiceStateChange(guildID: F.guildB, user: F.me, channelID: F.voiceB1)
                        ]))))
        XCTAssertEqual(alone, [.leaveVoice(guildID: F.guildB)])
    }

    func testMessagesFromBotsAndWithoutPrefixAreIgnored() {
        var state = makeState()
        XCTAssertTrue(state.apply(.event(F.message(F.otherBot, "!help"))).isEmpty)
        XCTAssertTrue(state.apply(.event(F.message(F.alice, "help me"))).isEmpty)
        XCTAssertEqual(state.apply(.event(F.message(F.alice, "!help"))).count, 1)
    }
}
