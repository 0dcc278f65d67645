import DAVE
import MLS
import Realtime
import XCTest

/// An in-process voice server for session tests: external sender, proposals, relaying commit and Welcome.
final class SessionTestChannel {
    static let channelID: UInt64 = 927_310_423_890_473_011
    let role: DAVEExternalSenderRole
    let clock = ManualClock()
    private(set) var sessions: [DAVESession] = []
    private(set) var keyPackages: [UInt64: [UInt8]] = [:]
    private var transitionID: UInt16 = 0

    init() throws { role = try DAVEExternalSenderRole(channelID: Self.channelID) }

    /// Connects a member (op 4 version 1, op 25) and keeps its op 26.
    @discardableResult
    func connect(_ userID: UInt64, recognized: [UInt64]) throws -> DAVESession {
        let session = DAVESession(selfUserID: userID, channelID: Self.channelID, clock: clock)
        session.addRecognizedUsers(recognized)
        let sent = try session.handleSelectProtocol(version: 1) + session.handleExternalSender(role.package.encoded)
        XCTAssertEqual(sent.map(\.opcode), [26])
        guard case .keyPackage(let keyPackage)? = sent.first else { throw SessionTestError.noKeyPackage }
        keyPackages[userID] = keyPackage
        sessions.append(session)
        return session
    }

    /// The op 27 append payload adding `userIDs` at `epoch`.
    func addProposals(_ userIDs: [UInt64], epoch: UInt64) throws -> [UInt8] {
        let messages = try userIDs.map { try role.add(keyPackagePayload: keyPackages[$0] ?? [], epoch: epoch).message }
        return DAVEProposalsPayload.append(messages).encoded
    }

    /// `committer` commits the proposals; returns (op 29 payload, op 30 payload?) with a fresh transition id.
    func commit(_ committer: DAVESession, proposals: [UInt8]) throws -> (announce: [UInt8], welcome: [UInt8]?) {
        guard case .commitWelcome(let body)? = try committer.handleProposals(proposals).first else {
            throw SessionTestError.noCommit
        }
        let parsed = try DAVECommitWelcome(payload: body)
        transitionID += 1
        return (
            DAVEAnnounceCommit(transitionID: transitionID, commit: parsed.commit).encoded,
            parsed.welcome.map { DAVEWelcomePayload(transitionID: transitionID, welcome: $0).encoded }
        )
    }

    /// The transition id used by the last `commit`.
    var lastTransitionID: UInt16 { transitionID }

    /// Forms a group of `first` and `others` (first commits), executing the transition everywhere.
    func formGroup(_ first: DAVESession, _ others: [DAVESession]) throws {
        let (announce, welcome) = try commit(first, proposals: addProposals(others.map(\.selfUserID), epoch: 0))
        XCTAssertEqual(try first.handleAnnounceCommit(announce), [.readyForTransition(transitionID: transitionID)])
        for other in others {
            XCTAssertEqual(try other.handleWelcome(welcome ?? []), [.readyForTransition(transitionID: transitionID)])
        }
        for session in [first] + others {
            session.handleExecuteTransition(DAVEExecuteTransition(transitionID: transitionID))
        }
    }
}

enum SessionTestError: Error { case noKeyPackage, noCommit }
