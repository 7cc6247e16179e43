#include "anomaly/detection_options.h"
