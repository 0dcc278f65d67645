import Discord
import Foundation
import FuzzSupport

// Discord gateway events as a shard receives them: one whole JSON message (`{"op":0,"t":…,"s":…,"d":…}`) through
// the header decode, the typed event parser and the cache update (GatewayDispatchBench runs exactly that path).
// Any input must produce an event, be ignored, or throw, never trap. A fresh cache per input keeps runs independent.
FuzzDriver.run { data in
    _ = try? GatewayDispatchBench().handle(Data(data))
}
