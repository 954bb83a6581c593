package org.cotrain.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ${a.b} interpolation, DP's ${eval:'...'} resolver and its Python semantics. */
class InterpolationTest {

    private static Config pusht(String... overrides) {
        return Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER).withOverrides(overrides);
    }

    private static Object eval(String expression) {
        return EvalExpression.evaluate(expression, key -> Map.<String, Object>of("a", 3L, "t", true).get(key));
    }

    private static String error(Runnable r) {
        return assertThrows(ConfigException.class, r::run).getMessage();
    }

    @Test
    void aWholeReferenceKeepsItsType() {
        Config c = pusht("n_obs_steps=3", "exp_name=${obs_as_cond}");
        assertEquals(3L, c.get("policy.model.n_obs_steps"));
        assertEquals(Boolean.TRUE, c.get("exp_name"));
        assertEquals(20L, c.get("obs_dim"));                     // ${task.obs_dim}, two sections away
        assertEquals(List.of(20L, "x"), pusht("task.dataset.obs_keys=[\"${obs_dim}\", x]").get("task.dataset.obs_keys"));
    }

    @Test
    void referencesInsideTextArePastedAsText() {
        assertEquals("pusht_lowdim_16_True_None", pusht("exp_name=${task_name}_${horizon}_${obs_as_cond}_"
                + "${training.max_train_steps}").get("exp_name"));
    }

    @Test
    void diffusionPolicyEvalExpressionsFollowObsAsCond() {
        Config cond = pusht();
        assertEquals(2L, cond.get("policy.model.input_dim"));
        assertEquals(2L, cond.get("policy.model.output_dim"));
        assertEquals(20L, cond.get("policy.model.cond_dim"));
        Config inpaint = pusht("obs_as_cond=false");
        assertEquals(22L, inpaint.get("policy.model.input_dim"));
        assertEquals(22L, inpaint.get("policy.model.output_dim"));
        assertEquals(0L, inpaint.get("policy.model.cond_dim"));
        assertEquals(22, inpaint.toTrainConfig().policy().model().inputDim());
    }

    @Test
    void evalFollowsPython() {
        assertEquals(7L, eval("1 + 2 * 3"));
        assertEquals(9L, eval("(1 + 2) * ${a}"));
        assertEquals(3.5, eval("7 / 2"));
        assertEquals(3L, eval("7 // 2"));
        assertEquals(-4L, eval("-7 // 2"));
        assertEquals(2L, eval("-7 % 3"));
        assertEquals(-2.0, eval("-7.0 % -5 + 0.0") instanceof Double d ? Math.rint(d) : null);
        assertEquals(2.5e-4, eval("2.5e-4"));
        assertEquals(5.0, eval("2 + 3.0"));
        assertEquals(true, eval("${a} >= 3 and ${a} != 4"));
        assertEquals(false, eval("not ${t}"));
        assertEquals(0L, eval("0 and 5"));         // and/or return an operand
        assertEquals(5L, eval("0 or 5"));
        assertEquals(1L, eval("1 if ${t} else 2 if ${t} else 3"));
        assertEquals(3L, eval("1 if not ${t} else 2 if not ${t} else 3"));
        assertEquals("ab", eval("'a' + \"b\""));
        assertEquals(true, eval("1 == 1.0"));
        assertNull(eval("None"));
    }

    @Test
    void evalErrorsNameTheExpressionAndTheKey() {
        assertEquals("horizon: eval '1 +': unexpected end (at character 3) (override horizon=${eval:'1 +'})",
                error(() -> pusht("horizon=${eval:'1 +'}")));
        assertTrue(error(() -> pusht("horizon=${eval:'1 // 0'}")).contains("division by zero"));
        assertTrue(error(() -> pusht("horizon=${eval:'len(3)'}")).contains("unknown name 'len'"));
        assertTrue(error(() -> pusht("horizon=${eval:'1 if True'}")).contains("'if' without 'else'"));
        assertTrue(error(() -> pusht("horizon=${eval:'${obs_as_cond} + 1'}"))
                .contains("'+' needs two numbers, got True and 1"));
        assertTrue(error(() -> pusht("horizon=${eval:'import os'}")).contains("unknown name 'import'"));
    }

    @Test
    void badReferencesAreErrors() {
        assertEquals("horizon: ${horizonn} refers to an unknown key; did you mean horizon? (override"
                + " horizon=${horizonn})", error(() -> pusht("horizon=${horizonn}")));
        assertTrue(error(() -> pusht("horizon=${policy}")).contains("refers to a section"));
        assertTrue(error(() -> pusht("exp_name=${now:%Y}")).contains("uses the resolver 'now'; only eval is"
                + " supported"));
        assertTrue(error(() -> pusht("horizon=${.n_obs_steps}")).contains("relative interpolation"));
        assertTrue(error(() -> pusht("exp_name=${horizon")).contains("'${' without its '}'"));
        assertTrue(error(() -> pusht("task.dataset.obs_keys=[\"${optimizer.betas}\"]"))
                .contains("an element of the list is itself a list"));
    }

    @Test
    void cyclesAreErrorsThatShowTheChain() {
        assertEquals("interpolation cycle: horizon -> policy.horizon -> horizon",
                error(() -> pusht("horizon=${policy.horizon}")));
    }

    @Test
    void aBackslashEscapesTheDollar() {
        assertEquals("${horizon} steps", pusht("exp_name=\\${horizon} steps").get("exp_name"));
    }
}
