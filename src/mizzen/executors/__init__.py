"""mizzen.executors"""
