"""``kubeds demo``: the seed's DaemonSet story, told with the real kubectl against a real plane."""
