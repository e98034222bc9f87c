"""Tables of test cases shared by the unit tier and the engine tier (imported as `cases.*`, like `harness.*`)."""
