// AWS Glue's Scala library (com.amazonaws.services.glue) is not public, so local Scala sessions
// have none: this stands in for its GlueContext so that code using one fails at once with an
// error that names what is missing, not with a compiler's "not found".
package com.amazonaws.services.glue

class GlueContext(sc: org.apache.spark.SparkContext) {
  throw new UnsupportedOperationException(
    "GlueContext is not available in local Scala sessions: the local endpoint has no AWS Glue " +
      "Scala library (com.amazonaws.services.glue: GlueContext, DynamicFrame, GlueArgParser). " +
      "Use spark (a SparkSession) and sc here, or a Python session, whose awsglue runs locally")
}
