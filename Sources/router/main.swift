import ArgumentParser
import RouterCore

RouterCommand.main()
