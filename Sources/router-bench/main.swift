import ArgumentParser

BenchRootCommand.main()
