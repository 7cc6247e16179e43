#include "anomaly/roster.h"
