/**
 * Looking inside trained policies: linear probes, nearest neighbours and t-SNE maps of their features (which
 * domain, which demo). May import train and everything below.
 */
package org.cotrain.analysis;
