#include "anomaly/engine.h"
